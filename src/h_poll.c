/*
 * h_poll: GET /api/poll (wait for news) and GET /api/history (look back).
 *
 * A poll reads the events after its cursor that the caller may see: from
 * the waiter's recent rows when they cover its cursor, else from the
 * store. If there are some, or it asked not to wait, it is answered at
 * once; otherwise it is parked in the waiter with poll_answer as the function
 * that will finish it, with news or with nothing when its time is up.
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#include <stdint.h>
#include <stdlib.h>
#include <sys/uio.h>

#include "handlers.h"
#include "json.h"
#include "metrics.h"
#include "reply.h"
#include "session.h"
#include "validate.h"
#include "waiter.h"
#include "watch.h"

#define HISTORY_DEFAULT 50
#define HISTORY_MAX 200
/*
 * A poll's answer stops after the event that takes it past this many
 * bytes, and its cursor at that event: the client reads the rest at its
 * next poll. 500 events of 2,000 escaped characters would be 6 MB; nginx
 * buffers up to 1 MB of an answer (fastcgi_buffers), so an answer this
 * size leaves chatd at once, however slowly its client reads it.
 */
#define POLL_ANSWER_BYTES (256 * 1024)
#define RECENT_CATCH_UP 64 /* rows read for the recent rows, at most */

/*
 * How many of the n pieces of v an answer shows: all, or those up to the
 * one that takes the events past POLL_ANSWER_BYTES (counted from the
 * first event's brace, the list's commas included, without the cursor).
 */
static size_t
poll_shown(const struct event_piece *v, size_t n)
{
	size_t i, bytes = 0;

	for (i = 0; i < n; i++) {
		bytes += i > 0 ? v[i].len : v[i].len - 1;
		if (bytes >= POLL_ANSWER_BYTES && i + 1 < n)
			return i + 1;
	}
	return n;
}

/*
 * Answer a poll with the events of v, {"cursor": C, "events": [...]}, or
 * with as many as fit in POLL_ANSWER_BYTES: then the cursor is the last
 * one's id. The answer is written from the pieces where they are (shared
 * with the other polls of a batch): pieces that lie one after another in
 * memory go as one buffer.
 */
void
poll_answer(
    struct conn *c, const struct event_piece *v, size_t n, int64_t cursor)
{
	static struct buf head; /* kept: sent or copied before the next */
	struct iovec	  iov[WAITER_MAX_EVENTS + 2];
	const char	 *p;
	size_t		  shown, i, len, total;
	int		  k = 1;

	if ((shown = poll_shown(v, n)) < n)
		cursor = v[shown - 1].id;
	buf_reset(&head);
	buf_addc(&head, '{');
	json_key(&head, "cursor");
	json_int(&head, cursor);
	buf_addc(&head, ',');
	json_key(&head, "events");
	buf_addc(&head, '[');
	iov[0].iov_base = head.data;
	iov[0].iov_len = head.len;
	total = head.len + 2;
	for (i = 0; i < shown; i++) {
		/* The list's first event goes without its comma. */
		p = i > 0 ? v[i].json : v[i].json + 1;
		len = i > 0 ? v[i].len : v[i].len - 1;
		total += len;
		if (k > 1 &&
		    (char *)iov[k - 1].iov_base + iov[k - 1].iov_len == p) {
			iov[k - 1].iov_len += len;
			continue;
		}
		iov[k].iov_base = (void *)(uintptr_t)p;
		iov[k++].iov_len = len;
	}
	iov[k].iov_base = "]}";
	iov[k++].iov_len = 2;
	metrics_delivered(shown);
	reply_json_iov(c, iov, k, total);
}

/*
 * The room argument (default lobby), checked; NULL after answering
 * bad_room.
 */
static const char *
room_arg(struct conn *c)
{
	const struct str *room;
	const char	 *why;

	if ((room = request_arg(&c->req, "room")) == NULL)
		return "lobby";
	if ((why = validate_room(room->p, room->len)) != NULL) {
		reply_error(c, API_BAD_ROOM, why, NULL);
		return NULL;
	}
	return pool_strndup(c->req.pool, room->p, room->len);
}

/*
 * Read an optional integer argument in [min, max] into *out (which holds
 * the default); -1 after answering bad_request with why.
 */
static int
int_arg(struct conn *c, const char *name, long long min, long long max,
    long long *out, const char *why)
{
	const struct str *s;

	if ((s = request_arg(&c->req, name)) == NULL)
		return 0;
	if (request_parse_int(s, min, max, out) == -1) {
		reply_error(c, API_BAD_REQUEST, why, NULL);
		return -1;
	}
	return 0;
}

/* GET /api/poll?since=CURSOR[&room=R][&timeout=S] */
void
h_poll(struct app *app, struct conn *c)
{
	struct store_session	  s;
	struct event_list	  events = { NULL, 0, 0 };
	static struct event_piece recent[WAITER_MAX_EVENTS];
	struct event_piece	 *v;
	struct buf		  json;
	const char		 *room;
	long long		  since = -1, timeout = app->conf->poll_timeout;
	int64_t			  cursor;
	size_t			  i, off;
	int			  may_wait, n;

	if (session_require(app, c, &s) == -1)
		return;
	if (request_arg(&c->req, "since") == NULL) {
		reply_error(c, API_BAD_REQUEST,
		    "since is required (0 at first).", NULL);
		return;
	}
	if (int_arg(c, "since", 0, INT64_MAX, &since,
		"since must be a cursor: a whole number, 0 or more.") == -1 ||
	    int_arg(c, "timeout", 0, WAITER_MAX_TIMEOUT, &timeout,
		"timeout must be 0 to 60 seconds.") == -1 ||
	    (room = room_arg(c)) == NULL)
		return;
	if (timeout > app->conf->poll_max)
		timeout = app->conf->poll_max;
	may_wait = timeout > 0 && !app->stopping;
	/*
	 * Nobody was parked and the watcher's mark moved past new rows
	 * without reading them: read them once here, for every poll that
	 * comes back behind it, instead of once for each.
	 */
	if (waiter_recent_behind(watch_delivered(), &cursor)) {
		if (store_read_after(app->store, cursor, RECENT_CATCH_UP,
			&events) == STORE_OK)
			waiter_recent_catch_up(&events, watch_delivered());
		event_list_clear(&events);
	}
	/*
	 * A client that keeps up comes back with the cursor of its last
	 * answer, which is where the watcher stands while nothing new has
	 * come: nothing to read, so it parks without a query. Whatever is
	 * written next reaches it through the watcher, as for any parked poll.
	 */
	if (may_wait && since == watch_delivered()) {
		waiter_park(c, since, s.id, room, (int)timeout, poll_answer);
		return;
	}
	/*
	 * A little behind: the watcher's recent rows may hold the rest, if
	 * no delivery of this process's own commits is held.
	 */
	if ((n = waiter_recent(
		 watch_current(), since, room, s.id, recent, &cursor)) > 0 ||
	    (n == 0 && !may_wait))
		poll_answer(c, recent, (size_t)n, cursor);
	else if (n == 0)
		waiter_park(c, cursor, s.id, room, (int)timeout, poll_answer);
	if (n >= 0)
		return;
	if (store_poll(app->store, since, room, s.id, WAITER_MAX_EVENTS,
		&events, &cursor) != STORE_OK) {
		reply_error(
		    c, API_UNAVAILABLE, "The store is unavailable.", NULL);
		return;
	}
	if (events.n == 0 && may_wait) {
		waiter_park(c, cursor, s.id, room, (int)timeout, poll_answer);
		return;
	}
	v = calloc(events.n ? events.n : 1, sizeof *v);
	if (v == NULL) {
		reply_error(c, API_UNAVAILABLE, "Out of memory.", NULL);
		event_list_clear(&events);
		return;
	}
	/* One buffer for all: their pieces lie one after another. */
	buf_init(&json);
	for (i = 0; i < events.n; i++) {
		off = json.len;
		event_piece_json(&json, &events.v[i]);
		v[i].id = events.v[i].id;
		v[i].len = json.len - off;
	}
	for (i = 0, off = 0; i < events.n; off += v[i++].len)
		v[i].json = json.data + off;
	poll_answer(c, v, events.n, cursor);
	buf_free(&json);
	free(v);
	event_list_clear(&events);
}

/* GET /api/history?room=R[&before=ID][&limit=N] */
void
h_history(struct app *app, struct conn *c)
{
	struct store_session s;
	struct event_list    events = { NULL, 0, 0 };
	struct buf	     body;
	const char	    *room;
	long long	     before = INT64_MAX, limit = HISTORY_DEFAULT;

	if (session_require(app, c, &s) == -1)
		return;
	if ((room = room_arg(c)) == NULL ||
	    int_arg(c, "before", 0, INT64_MAX, &before,
		"before must be an event id.") == -1 ||
	    int_arg(c, "limit", 1, HISTORY_MAX, &limit,
		"limit must be 1 to 200.") == -1)
		return;
	if (store_history(app->store, room, s.id, before, (int)limit,
		&events) != STORE_OK) {
		reply_error(
		    c, API_UNAVAILABLE, "The store is unavailable.", NULL);
		return;
	}
	buf_init(&body);
	buf_addc(&body, '{');
	json_key(&body, "events");
	event_list_json(&body, &events, 0, events.n);
	buf_addc(&body, '}');
	reply_json(c, &body, NULL);
	buf_free(&body);
	event_list_clear(&events);
}
