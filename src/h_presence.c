/*
 * h_presence: a page's presence beyond login and logout. GET /api/session
 * lets a page that holds the session cookie (a reload, a second tab of the
 * same browser) go on with that session without a new login, so no join
 * or leave is written; POST /api/away lets a page that closes say so, so
 * that the session ends soon after (away.c) instead of at the idle timeout.
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#include "away.h"
#include "handlers.h"
#include "json.h"
#include "reply.h"
#include "session.h"

/* GET /api/session: the caller's nick, CSRF token and a cursor. */
void
h_session_get(struct app *app, struct conn *c)
{
	struct store_session s;
	struct buf	     body;
	int64_t		     cursor;

	if (session_require(app, c, &s) == -1)
		return;
	if ((cursor = store_max_id(app->store)) < 0) {
		reply_error(
		    c, API_UNAVAILABLE, "The store is unavailable.", NULL);
		return;
	}
	buf_init(&body);
	buf_addc(&body, '{');
	json_key(&body, "nick");
	json_cstring(&body, s.nick);
	buf_addc(&body, ',');
	json_key(&body, "csrf");
	json_cstring(&body, s.csrf);
	buf_addc(&body, ',');
	json_key(&body, "cursor");
	json_int(&body, cursor);
	buf_addc(&body, '}');
	reply_json(c, &body, NULL);
	buf_free(&body);
}

/* POST /api/away: the page is going away; end the session after a grace. */
void
h_away(struct app *app, struct conn *c)
{
	struct store_session s;
	struct buf	     body;

	if (session_require_csrf(app, c, &s, SESSION_CACHED) == -1)
		return;
	away_mark(app, s.id);
	buf_init(&body);
	buf_adds(&body, "{\"ok\":true}");
	reply_json(c, &body, NULL);
	buf_free(&body);
}
