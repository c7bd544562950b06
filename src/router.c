/*
 * router: the table of endpoints (see API.md), and the checks every
 * request passes before its handler: a known path, the right method, a
 * body within the limit, arguments that decode.
 */
#include <stdio.h>
#include <string.h>

#include "handlers.h"
#include "log.h"
#include "reply.h"
#include "router.h"

struct route {
	const char	*path;
	const char	*method;
	void		(*handler)(struct app *, struct conn *);
};

static const struct route routes[] = {
	{ "/api/login",		"POST",	h_login },
	{ "/api/logout",	"POST",	h_logout },
	{ "/api/send",		"POST",	h_send },
	{ "/api/poll",		"GET",	h_poll },
	{ "/api/history",	"GET",	h_history },
	{ "/api/users",		"GET",	h_users },
};

/* Hand the request on c to its handler, or answer the error. */
void
router_dispatch(struct app *app, struct conn *c)
{
	const struct route	*rt = NULL;
	struct request		*req = &c->req;
	const char		*why;
	char			 allow[32];
	size_t			 i;

	for (i = 0; i < sizeof routes / sizeof routes[0]; i++) {
		if (req->path != NULL && strcmp(req->path, routes[i].path) == 0)
			rt = &routes[i];
	}
	if (rt == NULL) {
		reply_error(c, API_NOT_FOUND, "No such endpoint.", NULL);
		return;
	}
	if (req->method == NULL || strcmp(req->method, rt->method) != 0) {
		snprintf(allow, sizeof allow, "Allow: %s\r\n", rt->method);
		reply_error(c, API_METHOD_NOT_ALLOWED, rt->method[0] == 'G' ?
		    "Use GET." : "Use POST.", allow);
		return;
	}
	if (req->body_too_large) {
		reply_error(c, API_TOO_LARGE, "The request body is too large.",
		    NULL);
		return;
	}
	if ((why = request_parse_args(req)) != NULL) {
		reply_error(c, API_BAD_REQUEST, why, NULL);
		return;
	}
	log_debug("%s %s", req->method, req->path);
	rt->handler(app, c);
}
