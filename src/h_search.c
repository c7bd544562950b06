/*
 * h_search: GET /api/search, the history by its words.
 *
 * The words of q (search.c) are looked up in the full-text index of
 * sql/007 (events_fts), newest first; of the matches, the caller gets the
 * ones that history of the same room would show it (the API's "who sees
 * what": the room's messages, and the private messages it sent or
 * received; joins, leaves and images have no words), like history the
 * newest limit below before, oldest first. A search looks at no more
 * than SEARCH_SCAN matches, so that words common in rooms the caller
 * does not read cost it no more than that; "before" in the answer says
 * where to go on when there may be more.
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#include <stdint.h>

#include "handlers.h"
#include "json.h"
#include "reply.h"
#include "search.h"
#include "session.h"
#include "validate.h"

#define SEARCH_DEFAULT 50
#define SEARCH_MAX 200
#define SEARCH_SCAN 2000 /* matches looked at, at most, per search */

/* Read the optional integer argument name in [min, max]; -1 if bad. */
static int
search_int(struct conn *c, const char *name, long long min, long long max,
    long long *out)
{
	const struct str *s;

	if ((s = request_arg(&c->req, name)) == NULL)
		return 0;
	return request_parse_int(s, min, max, out);
}

/* Answer {"events": [...], "before": B}, B only if there may be more. */
static void
search_answer(struct conn *c, const struct event_list *events, int64_t more)
{
	struct buf body;

	buf_init(&body);
	buf_addc(&body, '{');
	json_key(&body, "events");
	event_list_json(&body, events, 0, events->n);
	if (more > 0) {
		buf_addc(&body, ',');
		json_key(&body, "before");
		json_int(&body, more);
	}
	buf_addc(&body, '}');
	reply_json(c, &body, NULL);
	buf_free(&body);
}

/* GET /api/search?q=WORDS[&room=R][&before=ID][&limit=N] */
void
h_search(struct app *app, struct conn *c)
{
	struct store_session s;
	struct event_list    events = { NULL, 0, 0 };
	struct buf	     expr;
	const struct str    *q, *room_s;
	const char	    *room = "lobby", *why;
	long long	     before = INT64_MAX, limit = SEARCH_DEFAULT;
	int64_t		     more = 0;

	if (session_require(app, c, &s) == -1)
		return;
	if ((room_s = request_arg(&c->req, "room")) != NULL) {
		if ((why = validate_room(room_s->p, room_s->len)) != NULL) {
			reply_error(c, API_BAD_ROOM, why, NULL);
			return;
		}
		room = pool_strndup(c->req.pool, room_s->p, room_s->len);
	}
	if (search_int(c, "before", 0, INT64_MAX, &before) == -1 ||
	    search_int(c, "limit", 1, SEARCH_MAX, &limit) == -1) {
		reply_error(c, API_BAD_REQUEST,
		    "before must be an event id, limit 1 to 200.", NULL);
		return;
	}
	if ((q = request_arg(&c->req, "q")) == NULL) {
		reply_error(c, API_BAD_REQUEST, "q is required.", NULL);
		return;
	}
	buf_init(&expr);
	if ((why = search_expr(q->p, q->len, &expr)) != NULL)
		reply_error(c, API_BAD_REQUEST, why, NULL);
	else if (store_search(app->store, expr.data, expr.len, room, s.id,
		     before, (int)limit, SEARCH_SCAN, &events,
		     &more) != STORE_OK)
		reply_error(
		    c, API_UNAVAILABLE, "The store is unavailable.", NULL);
	else
		search_answer(c, &events, more);
	buf_free(&expr);
	event_list_clear(&events);
}
