/*
 * waiter: parked polls (see waiter.h).
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "loop.h"
#include "metrics.h"
#include "waiter.h"
#include "xmalloc.h"

struct waiter_poll {
	struct conn	     *conn;
	int64_t		      cursor; /* everything up to it seen */
	int64_t		      session;
	int64_t		      deadline; /* loop_now() ms */
	waiter_answer_fn      answer;
	struct waiter_poll   *prev, *next;   /* in lists[timeout] */
	struct waiter_poll   *sprev, *snext; /* in its session's, park order */
	struct session_polls *owner;
	unsigned char	      timeout;
	char		      room[WAITER_ROOM_MAX + 1];
};

struct poll_list {
	struct waiter_poll *head, *tail;
};

/* One session's parked polls, oldest first; in a bucket of by_session. */
struct session_polls {
	int64_t		      session;
	int		      n;
	struct waiter_poll   *head, *tail;
	struct session_polls *next;
};

#define PIECES_KEEP (1 << 20) /* bytes of pieces kept between batches */
#define SESSION_BUCKETS 4096  /* a power of two */

static struct poll_list	     lists[WAITER_MAX_TIMEOUT + 1];
static struct session_polls *by_session[SESSION_BUCKETS];
static struct loop_timer     timer;
static int		     parked;
static int		     session_cap = 1;

static void waiter_expire(struct loop_timer *);

/*
 * The recent rows: the last ones news brought, each with its piece, so
 * that a poll that comes back a little behind the watcher (under load, a
 * client answered early in a fan-out polls again after the next row was
 * delivered) is answered from memory instead of the store. Every row
 * with an id in (recent_from, recent_end] is here, oldest first.
 */
#define RECENT_MAX 1024	       /* rows */
#define RECENT_BYTES (1 << 20) /* of their pieces */

struct recent_row {
	struct event e;	   /* what event_visible needs, copied */
	char	    *json; /* its piece */
	size_t	     len;
};

static struct recent_row recent[RECENT_MAX];
static size_t		 recent_first, recent_n, recent_bytes;
static int64_t		 recent_from = -1, recent_end = -1;
static int		 recent_ok;	    /* the rows are all there is */
static int64_t		 watcher_mark = -1; /* waiter_mark, waiter_news */

/*
 * Set up the waiter: a session holds at most per_session parked polls;
 * one more answers its oldest at once.
 */
void
waiter_init(int per_session)
{
	loop_timer_init(&timer, waiter_expire);
	session_cap = per_session > 0 ? per_session : 1;
}

int
waiter_count(void)
{
	return parked;
}

/* Set the timer to the earliest deadline of all lists. */
static void
rearm(void)
{
	int64_t next = -1;
	int	i;

	for (i = 0; i <= WAITER_MAX_TIMEOUT; i++) {
		if (lists[i].head != NULL &&
		    (next < 0 || lists[i].head->deadline < next))
			next = lists[i].head->deadline;
	}
	if (next < 0)
		loop_timer_cancel(&timer);
	else
		loop_timer_at(&timer, next);
}

/* The bucket of by_session where session's entry is, or would be. */
static struct session_polls **
session_bucket(int64_t session)
{
	uint64_t h = (uint64_t)session * 0x9e3779b97f4a7c15ULL;

	return &by_session[(h >> 32) & (SESSION_BUCKETS - 1)];
}

/* The entry of session, made if it has none. */
static struct session_polls *
session_get(int64_t session)
{
	struct session_polls **b = session_bucket(session), *sp;

	for (sp = *b; sp != NULL; sp = sp->next)
		if (sp->session == session)
			return sp;
	sp = xcalloc(1, sizeof *sp);
	sp->session = session;
	sp->next = *b;
	*b = sp;
	return sp;
}

/* Is a poll of session sid parked here? */
int
waiter_has_session(int64_t sid)
{
	struct session_polls *sp;

	for (sp = *session_bucket(sid); sp != NULL; sp = sp->next)
		if (sp->session == sid)
			return 1;
	return 0;
}

/* Take p out of its session's list; free the entry if it was the last. */
static void
session_unlink(struct waiter_poll *p)
{
	struct session_polls *sp = p->owner, **b;

	if (p->sprev != NULL)
		p->sprev->snext = p->snext;
	else
		sp->head = p->snext;
	if (p->snext != NULL)
		p->snext->sprev = p->sprev;
	else
		sp->tail = p->sprev;
	if (--sp->n > 0)
		return;
	for (b = session_bucket(sp->session); *b != sp; b = &(*b)->next)
		;
	*b = sp->next;
	free(sp);
}

static void
unlink_poll(struct waiter_poll *p)
{
	struct poll_list *l = &lists[p->timeout];

	if (p->prev != NULL)
		p->prev->next = p->next;
	else
		l->head = p->next;
	if (p->next != NULL)
		p->next->prev = p->prev;
	else
		l->tail = p->prev;
	session_unlink(p);
	parked--;
	log_debug("parked %d", parked);
	metrics_waiting(parked);
}

/* The client went away: forget the poll (conn closes it). */
static void
poll_gone(struct conn *c, void *arg)
{
	struct waiter_poll *p = arg;

	unlink_poll(p);
	free(p);
	rearm();
}

/* Take p out of the waiter, answer it, free it. */
static void
finish(struct waiter_poll *p, const struct event_piece *v, size_t n,
    int64_t cursor)
{
	unlink_poll(p);
	p->answer(p->conn, v, n, cursor);
	free(p);
}

/* Forget the oldest recent row: it is covered no more. */
static void
recent_drop(void)
{
	struct recent_row *r = &recent[recent_first];

	recent_from = r->e.id;
	recent_bytes -= r->len;
	free(r->e.type);
	free(r->e.room);
	free(r->e.to);
	free(r->json);
	memset(r, 0, sizeof *r);
	recent_first = (recent_first + 1) % RECENT_MAX;
	recent_n--;
}

/*
 * Start the recent rows again from delivered, the watcher's mark: none
 * yet, and rows are kept again only if the mark is one (not -1).
 */
static void
recent_reset(int64_t delivered)
{
	while (recent_n > 0)
		recent_drop();
	recent_from = recent_end = delivered;
	recent_ok = delivered >= 0;
}

/* Keep e, whose piece is json (len bytes), as the newest recent row. */
static void
recent_add(const struct event *e, const char *json, size_t len)
{
	struct recent_row *r;

	while (recent_n > 0 &&
	    (recent_n == RECENT_MAX || recent_bytes + len > RECENT_BYTES))
		recent_drop();
	if (len > RECENT_BYTES) {
		recent_from = e->id; /* too large to keep: start after it */
		recent_end = e->id;
		return;
	}
	r = &recent[(recent_first + recent_n) % RECENT_MAX];
	r->e.id = e->id;
	r->e.type = xstrdup(e->type);
	r->e.room = e->room ? xstrdup(e->room) : NULL;
	r->e.to = e->to ? xstrdup(e->to) : NULL;
	r->e.sender_session = e->sender_session;
	r->e.recipient_session = e->recipient_session;
	r->json = xmalloc(len);
	memcpy(r->json, json, len);
	r->len = len;
	recent_bytes += len;
	recent_n++;
	recent_end = e->id;
}

/*
 * Do the recent rows stop short of delivered, the watcher's mark (which
 * moves past new rows without reading them while nobody is parked)? Then
 * *end is where they stop, for waiter_recent_catch_up.
 */
int
waiter_recent_behind(int64_t delivered, int64_t *end)
{
	*end = recent_end;
	return recent_ok && delivered > recent_end;
}

/*
 * The rows after the recent rows' end, read from the store (ascending,
 * perhaps past delivered): keep those up to delivered, the watcher's
 * mark, as if news had brought them. If they do not reach it (more rows
 * than were read), the recent rows start again from the mark.
 */
void
waiter_recent_catch_up(const struct event_list *rows, int64_t delivered)
{
	struct buf b;
	size_t	   i;

	if (rows->n == 0 || rows->v[rows->n - 1].id < delivered) {
		recent_reset(delivered);
		return;
	}
	buf_init(&b);
	for (i = 0; i < rows->n && rows->v[i].id <= delivered; i++) {
		buf_reset(&b);
		event_piece_json(&b, &rows->v[i]);
		recent_add(&rows->v[i], b.data, b.len);
	}
	buf_free(&b);
	recent_end = delivered;
}

/*
 * A poll with cursor since, of session sid in room, answered from the
 * recent rows if they cover it: the pieces of the rows after since that
 * it may see into v (at most WAITER_MAX_EVENTS; good until the next news)
 * and its next cursor into *cursor, as a query of the store would give
 * them up to delivered, the watcher's mark. -1 if the recent rows do not
 * cover since, or the watcher has moved on without them.
 */
int
waiter_recent(int64_t delivered, int64_t since, const char *room, int64_t sid,
    struct event_piece *v, int64_t *cursor)
{
	struct recent_row *r;
	size_t		   i, n = 0;

	if (!recent_ok || delivered != recent_end || since < recent_from ||
	    since > recent_end)
		return -1;
	for (i = 0; i < recent_n && n < WAITER_MAX_EVENTS; i++) {
		r = &recent[(recent_first + i) % RECENT_MAX];
		if (r->e.id <= since || !event_visible(&r->e, room, sid))
			continue;
		v[n].id = r->e.id;
		v[n].json = r->json;
		v[n++].len = r->len;
	}
	*cursor = n == WAITER_MAX_EVENTS ? v[n - 1].id : recent_end;
	return (int)n;
}

/*
 * Park the poll on c: it has seen everything up to cursor, and waits at
 * most timeout seconds for an event that session may see in room. If the
 * session now holds more than its share, its oldest poll is answered at
 * once with no events and its cursor, as if its time were up.
 */
void
waiter_park(struct conn *c, int64_t cursor, int64_t session, const char *room,
    int timeout, waiter_answer_fn answer)
{
	struct waiter_poll   *p;
	struct poll_list     *l;
	struct session_polls *sp;

	if (timeout < 0)
		timeout = 0;
	if (timeout > WAITER_MAX_TIMEOUT)
		timeout = WAITER_MAX_TIMEOUT;
	/*
	 * With nobody parked the watcher moves its mark past new rows
	 * without reading them: the recent rows hold no more all there is
	 * if it moved. While anyone is parked, every row comes as news.
	 */
	if (parked == 0 && watcher_mark != recent_end)
		recent_reset(watcher_mark);
	p = xcalloc(1, sizeof *p);
	p->conn = c;
	p->cursor = cursor;
	p->session = session;
	p->deadline = loop_now() + timeout * 1000LL;
	p->answer = answer;
	p->timeout = (unsigned char)timeout;
	strncpy(p->room, room, WAITER_ROOM_MAX);
	l = &lists[timeout];
	p->prev = l->tail;
	if (l->tail != NULL)
		l->tail->next = p;
	else
		l->head = p;
	l->tail = p;
	sp = session_get(session);
	p->owner = sp;
	p->sprev = sp->tail;
	if (sp->tail != NULL)
		sp->tail->snext = p;
	else
		sp->head = p;
	sp->tail = p;
	sp->n++;
	parked++;
	log_debug("parked %d", parked);
	metrics_waiting(parked);
	conn_park(c, poll_gone, p);
	/* Past the session's share: its oldest poll goes back at once. */
	if (sp->n > session_cap) {
		finish(sp->head, NULL, 0, sp->head->cursor);
		rearm();
	} else if (l->head == p)
		rearm();
}

/* Answer the polls whose time is up, with no events. */
static void
waiter_expire(struct loop_timer *t)
{
	int64_t		    now = loop_now();
	struct waiter_poll *p;
	int		    i;

	for (i = 0; i <= WAITER_MAX_TIMEOUT; i++) {
		while ((p = lists[i].head) != NULL && p->deadline <= now)
			finish(p, NULL, 0, p->cursor);
	}
	rearm();
}

/* The JSON of a batch's events, each made once (see waiter_news). */
struct pieces {
	struct buf json; /* the pieces made so far, one after another */
	size_t	  *off;	 /* event i's piece in json, or SIZE_MAX */
	size_t	  *len;	 /* and its length */
	size_t	   cap;	 /* of off and len, kept between batches */
};

static struct pieces pieces;

/* Make ready for a batch of n events: none encoded yet. */
static void
pieces_start(size_t n)
{
	size_t i;

	if (n > pieces.cap) {
		pieces.off = xrealloc(pieces.off, n * sizeof *pieces.off);
		pieces.len = xrealloc(pieces.len, n * sizeof *pieces.len);
		pieces.cap = n;
	}
	for (i = 0; i < n; i++)
		pieces.off[i] = SIZE_MAX;
	/* A batch of long messages may have grown it: not kept past 1 MB. */
	if (pieces.json.cap > PIECES_KEEP)
		buf_free(&pieces.json);
	buf_reset(&pieces.json);
}

/*
 * Fill v with the pieces of the n events idx names in batch, encoding
 * those not encoded yet. v points into pieces.json: good until the next
 * call.
 */
static void
pieces_get(const struct event_list *batch, const size_t *idx, size_t n,
    struct event_piece *v)
{
	size_t i, k;

	for (i = 0; i < n; i++) {
		k = idx[i];
		if (pieces.off[k] != SIZE_MAX)
			continue;
		pieces.off[k] = pieces.json.len;
		event_piece_json(&pieces.json, &batch->v[k]);
		pieces.len[k] = pieces.json.len - pieces.off[k];
	}
	for (i = 0; i < n; i++) {
		k = idx[i];
		v[i].id = batch->v[k].id;
		v[i].json = pieces.json.data + pieces.off[k];
		v[i].len = pieces.len[k];
	}
}

/*
 * The watcher's mark moved to id without news: nobody was parked, so it
 * went past new rows without reading them (watch.c tells, so that the
 * waiter needs nothing of the watcher's).
 */
void
waiter_mark(int64_t id)
{
	watcher_mark = id;
}

/*
 * Offer a batch of new rows (ascending ids, every row up to batch_max) to
 * every parked poll: each one that may see some of them is answered with
 * those (at most WAITER_MAX_EVENTS); the others have now seen up to
 * batch_max and go on waiting. Each row is encoded once, when the first
 * poll that may see it is answered, and shared by all of them.
 */
void
waiter_news(const struct event_list *batch, int64_t batch_max)
{
	static size_t		  seen[WAITER_MAX_EVENTS];
	static struct event_piece v[WAITER_MAX_EVENTS];
	struct waiter_poll	 *p, *next;
	const struct event	 *e;
	size_t			  i, n;
	int			  t;

	watcher_mark = batch_max;
	pieces_start(batch->n);
	for (t = 0; t <= WAITER_MAX_TIMEOUT; t++) {
		for (p = lists[t].head; p != NULL; p = next) {
			next = p->next;
			n = 0;
			for (i = 0; i < batch->n && n < WAITER_MAX_EVENTS;
			     i++) {
				e = &batch->v[i];
				if (e->id > p->cursor &&
				    event_visible(e, p->room, p->session))
					seen[n++] = i;
			}
			if (n == 0) {
				if (batch_max > p->cursor)
					p->cursor = batch_max;
				continue;
			}
			pieces_get(batch, seen, n, v);
			/* Cut at the limit: the next poll goes on from there.
			 */
			finish(p, v, n,
			    n == WAITER_MAX_EVENTS ? v[n - 1].id : batch_max);
		}
	}
	for (i = 0; recent_ok && i < batch->n; i++) {
		pieces_get(batch, &i, 1, v);
		recent_add(&batch->v[i], v[0].json, v[0].len);
	}
	if (recent_ok)
		recent_end = batch_max;
	rearm();
}

/* Answer every parked poll now (shutdown): no events, their cursors. */
void
waiter_answer_all(void)
{
	struct waiter_poll *p;
	int		    i;

	for (i = 0; i <= WAITER_MAX_TIMEOUT; i++) {
		while ((p = lists[i].head) != NULL)
			finish(p, NULL, 0, p->cursor);
	}
	rearm();
}
