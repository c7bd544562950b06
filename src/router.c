/*
 * router: the table of endpoints (see docs/api.md), and the checks every
 * request passes before its handler: a known path, the right method,
 * arguments that decode, a body within the limit.
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#include <stdio.h>
#include <string.h>

#include "handlers.h"
#include "log.h"
#include "reply.h"
#include "router.h"

#define ROUTE_PREFIX 1	  /* path is a prefix: /api/image/ID */
#define ROUTE_MULTIPART 2 /* an upload: multipart/form-data */
#define FORM_SLACK 16384  /* an upload's form around its image */

struct route {
	const char *path;
	const char *method;
	void (*handler)(struct app *, struct conn *);
	int flags;
};

static const struct route routes[] = {
	{ "/api/login", "POST", h_login, 0 },
	{ "/api/logout", "POST", h_logout, 0 },
	{ "/api/send", "POST", h_send, 0 },
	{ "/api/image", "POST", h_image, ROUTE_MULTIPART },
	{ "/api/image/", "GET", h_image_get, ROUTE_PREFIX },
	{ "/api/poll", "GET", h_poll, 0 },
	{ "/api/history", "GET", h_history, 0 },
	{ "/api/search", "GET", h_search, 0 },
	{ "/api/users", "GET", h_users, 0 },
	{ "/api/metrics", "GET", h_metrics, 0 },
	{ "/api/health", "GET", h_health, 0 },
};

/* Does path name route rt? */
static int
route_matches(const struct route *rt, const char *path)
{
	size_t len = strlen(rt->path);

	if (rt->flags & ROUTE_PREFIX)
		return strncmp(path, rt->path, len) == 0 && path[len] != '\0';
	return strcmp(path, rt->path) == 0;
}

/* The route of path, or NULL. */
static const struct route *
route_of(const char *path)
{
	size_t i;

	for (i = 0; path != NULL && i < sizeof routes / sizeof routes[0]; i++)
		if (route_matches(&routes[i], path))
			return &routes[i];
	return NULL;
}

/*
 * The largest body a request for path may have: an upload's image
 * (--max-image) and its form, else --max-body. fcgi.c reads the body
 * before routing, so it asks here.
 */
size_t
router_body_limit(const struct app *app, const char *path)
{
	const struct route *rt = route_of(path);

	if (rt != NULL && (rt->flags & ROUTE_MULTIPART))
		return app->conf->max_image + FORM_SLACK;
	return app->conf->max_body;
}

/* The largest body of any route: as much of a body as is worth keeping. */
size_t
router_max_body(const struct app *app)
{
	size_t image = app->conf->max_image + FORM_SLACK;

	return image > app->conf->max_body ? image : app->conf->max_body;
}

/*
 * An upload from a legacy browser's hidden iframe asks with ?frame=1 for
 * its answer inside an HTML page, errors included: so this looks at the
 * raw query string, before anything can go wrong with decoding it.
 */
static int
wants_frame(const char *query)
{
	const char *s = query;
	size_t	    n;

	while (s != NULL && *s != '\0') {
		n = strcspn(s, "&");
		if (n == sizeof "frame=1" - 1 && strncmp(s, "frame=1", n) == 0)
			return 1;
		s += n;
		if (*s == '&')
			s++;
	}
	return 0;
}

/* Hand the request on c to its handler, or answer the error. */
void
router_dispatch(struct app *app, struct conn *c)
{
	const struct route *rt = route_of(c->req.path);
	struct request	   *req = &c->req;
	const char	   *why;
	char		    allow[32];

	c->route = rt != NULL ? rt->path : NULL;
	if (rt == NULL) {
		reply_error(c, API_NOT_FOUND, "No such endpoint.", NULL);
		return;
	}
	if (req->method == NULL || strcmp(req->method, rt->method) != 0) {
		snprintf(allow, sizeof allow, "Allow: %s\r\n", rt->method);
		reply_error(c, API_METHOD_NOT_ALLOWED,
		    rt->method[0] == 'G' ? "Use GET." : "Use POST.", allow);
		return;
	}
	if (rt->flags & ROUTE_MULTIPART) {
		req->multipart_ok = 1;
		req->frame = wants_frame(req->query);
	}
	if ((why = request_parse_query(req)) != NULL) {
		reply_error(c, API_BAD_REQUEST, why, NULL);
		return;
	}
	if (req->body_too_large) {
		reply_error(
		    c, API_TOO_LARGE, "The request body is too large.", NULL);
		return;
	}
	if ((why = request_parse_body(req)) != NULL) {
		reply_error(c, API_BAD_REQUEST, why, NULL);
		return;
	}
	rt->handler(app, c);
}
