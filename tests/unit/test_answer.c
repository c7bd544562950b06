/*
 * Unit tests of a poll's answer on the wire: parked polls (waiter.c) on
 * real sockets are answered from a batch of news, each event encoded
 * once into pieces that the answers share and written with sendmsg
 * (h_poll.c, reply.c, conn.c); the bytes each socket receives must be
 * those the earlier code made for the same poll: the whole body encoded
 * for each poll (poll_json), its head printed before it (reply_format),
 * and the whole copied into FastCGI records (conn_encode_records), kept
 * here as they were, as the reference. Batches: several rooms, private
 * messages, text with escapes and NULs, images, join and leave, answers
 * past the 64 KB of a record, the 256 KB cut, the 500-event cut, one
 * event; and the polls that news leaves waiting, answered empty.
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "event.h"
#include "handlers.h"
#include "json.h"
#include "loop.h"
#include "tap.h"
#include "waiter.h"
#include "xmalloc.h"

#define POLLS_MAX 64
#define REF_ANSWER_BYTES (256 * 1024)

static struct event_piece spare[WAITER_MAX_EVENTS]; /* for waiter_recent */
static int64_t		  spare_cur;

/* The reference: poll_json as it was. */
static size_t
ref_poll_json(
    struct buf *body, const struct event *const *v, size_t n, int64_t cursor)
{
	size_t i, start;

	buf_addc(body, '{');
	json_key(body, "cursor");
	json_int(body, cursor);
	buf_addc(body, ',');
	json_key(body, "events");
	buf_addc(body, '[');
	start = body->len;
	for (i = 0; i < n; i++) {
		if (i > 0)
			buf_addc(body, ',');
		event_json(body, v[i]);
		if (body->len - start >= REF_ANSWER_BYTES && i + 1 < n) {
			i++;
			break;
		}
	}
	buf_adds(body, "]}");
	return i;
}

/* The reference: one FastCGI record header, as conn.c wrote it. */
static void
ref_record_header(
    struct buf *out, int type, int request_id, size_t len, size_t pad)
{
	unsigned char h[8];

	h[0] = 1;
	h[1] = (unsigned char)type;
	h[2] = (unsigned char)(request_id >> 8);
	h[3] = (unsigned char)request_id;
	h[4] = (unsigned char)(len >> 8);
	h[5] = (unsigned char)len;
	h[6] = (unsigned char)pad;
	h[7] = 0;
	buf_add(out, h, sizeof h);
}

/* The reference: conn_encode_records as it was. */
static void
ref_records(struct buf *out, int request_id, const char *data, size_t len)
{
	static const char zeros[8];
	unsigned char	  end[8] = { 0, 0, 0, 0, 0, 0, 0, 0 };
	size_t		  n, pad;

	while (len > 0) {
		n = len > 65535 ? 65535 : len;
		pad = (8 - n % 8) % 8;
		ref_record_header(out, 6, request_id, n, pad);
		buf_add(out, data, n);
		buf_add(out, zeros, pad);
		data += n;
		len -= n;
	}
	ref_record_header(out, 6, request_id, 0, 0);
	ref_record_header(out, 3, request_id, sizeof end, 0);
	buf_add(out, end, sizeof end);
}

/*
 * The reference: what poll_answer, reply_format and conn_respond sent
 * for a poll answered with the n events of v and cursor.
 */
static int cuts; /* answers the reference cut at 256 KB */

static void
ref_answer(struct buf *wire, int request_id, const struct event *const *v,
    size_t n, int64_t cursor)
{
	struct buf body, cgi;
	size_t	   shown;

	buf_init(&body);
	buf_init(&cgi);
	if ((shown = ref_poll_json(&body, v, n, cursor)) < n) {
		cuts++;
		buf_reset(&body);
		ref_poll_json(&body, v, shown, v[shown - 1]->id);
	}
	buf_printf(&cgi,
	    "Status: 200 OK\r\n"
	    "Content-Type: application/json; charset=utf-8\r\n"
	    "Cache-Control: no-store\r\n"
	    "X-Content-Type-Options: nosniff\r\n"
	    "Content-Length: %zu\r\n\r\n",
	    body.len);
	buf_add(&cgi, body.data, body.len);
	ref_records(wire, request_id, cgi.data, cgi.len);
	buf_free(&body);
	buf_free(&cgi);
}

/* A poll of the test: its socket's far end and what came out of it. */
struct tpoll {
	int	    fd;	 /* the far end, read here */
	int	    eof; /* chatd closed its end: the answer is whole */
	int	    id;	 /* FastCGI request id */
	int64_t	    cursor;
	int64_t	    session;
	const char *room;
	struct buf  got;
};

static struct tpoll polls[POLLS_MAX];
static int	    npolls;

/* Park a poll of session in room that has seen up to cursor. */
static void
park(const char *room, int64_t session, int64_t cursor)
{
	struct tpoll *t = &polls[npolls];
	struct conn  *c;
	int	      sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1) {
		perror("socketpair");
		exit(1);
	}
	t->fd = sv[1];
	t->eof = 0;
	t->id = 1 + npolls * 257; /* both bytes of the id vary */
	t->cursor = cursor;
	t->session = session;
	t->room = room;
	buf_init(&t->got);
	c = conn_new(sv[0], t->id);
	c->state = CONN_NEW;
	waiter_park(c, cursor, session, room, WAITER_MAX_TIMEOUT, poll_answer);
	npolls++;
}

/*
 * Read every socket until chatd has closed its end of each (answers
 * larger than a socket's buffer are finished by the loop, on EPOLLOUT).
 */
static void
read_all(void)
{
	char	buf[65536];
	ssize_t n;
	int	i, open, turns;

	for (turns = 0; turns < 100000; turns++) {
		open = 0;
		for (i = 0; i < npolls; i++) {
			while (!polls[i].eof) {
				n = recv(
				    polls[i].fd, buf, sizeof buf, MSG_DONTWAIT);
				if (n > 0)
					buf_add(&polls[i].got, buf, (size_t)n);
				else if (n == 0)
					polls[i].eof = 1;
				else if (errno != EINTR)
					break;
			}
			open += !polls[i].eof;
		}
		if (open == 0)
			break;
		loop_run_once(10);
		conn_reap();
	}
	conn_reap();
}

/*
 * The events of batch that poll t may see, at most 500, into v; its
 * next cursor in *cursor, as waiter_news gives it.
 */
static size_t
ref_seen(const struct tpoll *t, const struct event_list *batch,
    int64_t batch_max, const struct event **v, int64_t *cursor)
{
	size_t i, n = 0;

	for (i = 0; i < batch->n && n < WAITER_MAX_EVENTS; i++)
		if (batch->v[i].id > t->cursor &&
		    event_visible(&batch->v[i], t->room, t->session))
			v[n++] = &batch->v[i];
	*cursor = n == WAITER_MAX_EVENTS ? v[n - 1]->id : batch_max;
	return n;
}

/* Do polls[i] and want hold the same bytes? Say where they part if not. */
static int
same(const struct tpoll *t, const struct buf *want)
{
	size_t i;

	if (t->got.len == want->len &&
	    memcmp(t->got.data, want->data, want->len) == 0)
		return 1;
	for (i = 0; i < t->got.len && i < want->len; i++)
		if (t->got.data[i] != want->data[i])
			break;
	printf("# poll %d: got %zu bytes, want %zu, first difference at "
	       "%zu\n",
	    t->id, t->got.len, want->len, i);
	return 0;
}

/*
 * Are the rows of batch after since all kept as recent rows: at most
 * 1,024 of them, their pieces 1 MB at most?
 */
static int
kept(const struct event_list *batch, int64_t since)
{
	struct buf piece;
	size_t	   i, n = 0, bytes = 0;

	buf_init(&piece);
	for (i = 0; i < batch->n; i++) {
		if (batch->v[i].id <= since)
			continue;
		buf_reset(&piece);
		event_piece_json(&piece, &batch->v[i]);
		bytes += piece.len;
		n++;
	}
	buf_free(&piece);
	return n <= 1024 && bytes <= (1 << 20);
}

/*
 * Ask the recent rows, as a poll coming back with each parked poll's
 * cursor would: the same events (their pieces as event_piece_json makes
 * them) and the same next cursor as waiter_news gave. The number of
 * polls for which they agree.
 */
static int
check_recent(const struct event_list *batch, int64_t batch_max)
{
	static const struct event *v[WAITER_MAX_EVENTS];
	static struct event_piece  got[WAITER_MAX_EVENTS];
	struct buf		   piece;
	int64_t			   cur, got_cur;
	size_t			   n, k;
	int			   i, m, right = 0, same_all;

	buf_init(&piece);
	for (i = 0; i < npolls; i++) {
		n = ref_seen(&polls[i], batch, batch_max, v, &cur);
		m = waiter_recent(batch_max, polls[i].cursor, polls[i].room,
		    polls[i].session, got, &got_cur);
		if (polls[i].cursor > batch_max ||
		    !kept(batch, polls[i].cursor)) {
			right += m == -1; /* the store's to answer */
			continue;
		}
		same_all = m == (int)n && got_cur == cur;
		for (k = 0; same_all && k < n; k++) {
			buf_reset(&piece);
			event_piece_json(&piece, v[k]);
			same_all = got[k].id == v[k]->id &&
			    got[k].len == piece.len &&
			    memcmp(got[k].json, piece.data, piece.len) == 0;
		}
		right += same_all;
	}
	buf_free(&piece);
	return right;
}

/*
 * Offer batch to the polls parked, and check each one's bytes: those
 * answered against the reference at once, those left waiting after
 * waiter_answer_all (no events, the batch's cursor).
 */
static void
check_batch(const char *name, const struct event_list *batch)
{
	static const struct event *v[WAITER_MAX_EVENTS];
	struct buf		   want;
	int64_t			   batch_max = batch->v[batch->n - 1].id, cur;
	size_t			   n;
	int			   i, right = 0, answered = 0, waiting = 0;
	int			   wait_right = 0, recent_right;

	waiter_news(batch, batch_max);
	recent_right = check_recent(batch, batch_max);
	ok(recent_right == npolls,
	    "%s: the recent rows give each poll what the batch gave it", name);
	for (i = 0; i < npolls; i++) {
		n = ref_seen(&polls[i], batch, batch_max, v, &cur);
		if (n > 0)
			answered++;
		else
			polls[i].eof = 1; /* still parked: read after */
	}
	read_all();
	buf_init(&want);
	for (i = 0; i < npolls; i++) {
		n = ref_seen(&polls[i], batch, batch_max, v, &cur);
		if (n == 0)
			continue;
		buf_reset(&want);
		ref_answer(&want, polls[i].id, v, n, cur);
		right += same(&polls[i], &want);
	}
	ok(answered > 0 && right == answered,
	    "%s: %d answers the same bytes as before", name, answered);
	for (i = 0; i < npolls; i++) {
		n = ref_seen(&polls[i], batch, batch_max, v, &cur);
		polls[i].eof = n > 0;
		waiting += n == 0;
	}
	waiter_answer_all();
	read_all();
	for (i = 0; i < npolls; i++) {
		n = ref_seen(&polls[i], batch, batch_max, v, &cur);
		if (n > 0)
			continue;
		buf_reset(&want);
		ref_answer(&want, polls[i].id, NULL, 0,
		    batch_max > polls[i].cursor ? batch_max : polls[i].cursor);
		/* Read past the answered ones: only the new bytes count. */
		wait_right += same(&polls[i], &want);
	}
	ok(wait_right == waiting && waiter_count() == 0,
	    "%s: the %d left waiting are answered as before", name, waiting);
	buf_free(&want);
	for (i = 0; i < npolls; i++) {
		close(polls[i].fd);
		buf_free(&polls[i].got);
	}
	npolls = 0;
	waiter_mark(0); /* the next case starts a log of its own */
}

/* Add an event of type to l; text of len bytes (NULL for none). */
static struct event *
add(struct event_list *l, const char *type, const char *room, const char *from,
    const char *text, size_t len)
{
	struct event *e = event_list_push(l);

	e->id = l->n > 1 ? l->v[l->n - 2].id + 1 + (int64_t)(l->n % 3) : 1000;
	e->ts = 1764068400000LL + (int64_t)l->n * 37;
	e->type = xstrdup(type);
	e->room = room ? xstrdup(room) : NULL;
	e->from = xstrdup(from);
	if (text != NULL) {
		e->text = xmalloc(len + 1);
		memcpy(e->text, text, len);
		e->text[len] = '\0';
		e->text_len = len;
	}
	e->sender_session = 1;
	return e;
}

/* A private message from session from to session to. */
static void
add_private(struct event_list *l, int64_t from, int64_t to, const char *text)
{
	struct event *e = add(l, "message", NULL, "alice", text, strlen(text));

	e->to = xstrdup("bob");
	e->sender_session = from;
	e->recipient_session = to;
}

/* One message in the lobby: polls of the lobby and of another room. */
static void
test_one_event(void)
{
	struct event_list l = { NULL, 0, 0 };

	add(&l, "message", "lobby", "alice", "hi", 2);
	park("lobby", 11, 0);
	park("lobby", 12, 999);
	park("other", 13, 0);
	park("lobby", 14, 5000); /* has seen past it */
	check_batch("one event", &l);
	event_list_clear(&l);
}

/*
 * A mixed batch: rooms, private messages, images, text with escapes,
 * NULs and bytes that are not UTF-8, join and leave with online counts;
 * polls of several rooms and sessions, cursors inside the batch.
 */
static void
test_mixed(void)
{
	static const char  tricky[] = "a\"b\\c\n\t<&>\x01 \0 nul\xe2\x80\xa8"
				      "\xff\xfe end \xc3\xa9";
	struct event_list  l = { NULL, 0, 0 };
	struct event	  *e;
	static const char *rooms[] = { "lobby", "r1", "r2", "empty" };
	int		   i;

	for (i = 0; i < 60; i++) {
		switch (i % 6) {
		case 0:
			add(&l, "message", rooms[i % 3], "alice", tricky,
			    sizeof tricky - 1);
			break;
		case 1:
			e = add(
			    &l, "image", rooms[(i / 2) % 3], "carol", NULL, 0);
			e->image = 77 + i;
			break;
		case 2:
			add_private(&l, 2 + i % 4, 3 + i % 5, "psst <b>");
			break;
		case 3:
			e = add(&l, i % 12 == 3 ? "join" : "leave", NULL,
			    "dave", i % 12 == 3 ? NULL : "timeout", 7);
			e->online = i;
			break;
		case 4:
			add(&l, "message", "r1", "bob", "\xce\xbb\xe2\x82\xac",
			    5);
			break;
		default: add(&l, "message", "lobby", "erin", "", 0); break;
		}
	}
	for (i = 0; i < 40; i++)
		park(rooms[i % 4], 1 + i % 9,
		    i % 5 == 0 ? l.v[(size_t)i % l.n].id : 0);
	check_batch("mixed batch", &l);
	event_list_clear(&l);
}

/*
 * Large events: answers past the 64 KB of a record, and the 256 KB cut
 * (the cursor at the last event shown); at several sizes, so that the
 * cut and the record boundaries fall in different places.
 */
static void
test_large(void)
{
	struct event_list l = { NULL, 0, 0 };
	char		 *text;
	size_t		  len;
	int		  i, round;
	char		  name[64];

	for (round = 0; round < 3; round++) {
		len = 1999 + (size_t)round * 700;
		text = xmalloc(len);
		for (i = 0; i < (int)len; i++)
			text[i] = "<a\"\\\xe2\x80\xa8&"[i % 8];
		for (i = 0; i < 200; i++)
			add(&l, "message", i % 2 ? "lobby" : "r1", "alice",
			    text, len - (size_t)(i % 13));
		park("lobby", 1, 0);
		park("r1", 2, 0);
		park("lobby", 3, l.v[40].id);
		park("r2", 4, 0); /* sees none */
		snprintf(name, sizeof name, "large events, %zu bytes", len);
		cuts = 0;
		check_batch(name, &l);
		ok(cuts == 3, "%s: the 256 KB cut, in 3 answers", name);
		ok(waiter_recent(
		       l.v[l.n - 1].id, 0, "lobby", 1, spare, &spare_cur) == -1,
		    "%s: past 1 MB the oldest rows are not kept", name);
		event_list_clear(&l);
		free(text);
	}
}

/*
 * The watcher's mark moved past new rows while nobody was parked: the
 * recent rows (ending with the last of l) catch up from rows read after
 * them, and then answer a poll behind the mark; rows that do not reach
 * the mark start them again from it.
 */
static void
test_catch_up(const struct event_list *l)
{
	struct event_list more = { NULL, 0, 0 };
	struct event	 *e;
	struct buf	  piece;
	int64_t		  end, last = l->v[l->n - 1].id;
	int		  i, n, right = 0;

	for (i = 0; i < 5; i++) {
		e = add(&more, "message", "lobby", "zed", "late", 4);
		e->id = last + 1 + 2 * i;
	}
	ok(waiter_recent_behind(last + 7, &end) && end == last,
	    "recent rows: behind a mark that moved without them");
	waiter_recent_catch_up(&more, last + 7);
	n = waiter_recent(last + 7, last, "lobby", 1, spare, &spare_cur);
	buf_init(&piece);
	for (i = 0; i < n && i < 4; i++) {
		buf_reset(&piece);
		event_piece_json(&piece, &more.v[i]);
		right += spare[i].id == more.v[i].id &&
		    spare[i].len == piece.len &&
		    memcmp(spare[i].json, piece.data, piece.len) == 0;
	}
	buf_free(&piece);
	ok(n == 4 && right == 4 && spare_cur == last + 7 &&
		!waiter_recent_behind(last + 7, &end),
	    "recent rows: caught up to the mark, the rows up to it, once");
	waiter_recent_catch_up(&more, last + 100);
	ok(waiter_recent(last + 100, last + 7, "lobby", 1, spare, &spare_cur) ==
		    -1 &&
		waiter_recent(
		    last + 100, last + 100, "lobby", 1, spare, &spare_cur) == 0,
	    "recent rows: rows short of the mark start them at the mark");
	event_list_clear(&more);
}

/* More than 500 events a poll may see: the 500-event cut. */
static void
test_many(void)
{
	struct event_list l = { NULL, 0, 0 };
	int		  i;

	for (i = 0; i < 730; i++) {
		if (i % 10 == 9)
			add_private(&l, 5, 6, "x");
		else
			add(&l, "message", "lobby", "alice", "m", 1);
	}
	park("lobby", 1, 0);
	park("lobby", 5, 0);
	park("lobby", 6, l.v[300].id);
	park("r9", 7, 0);
	check_batch("500-event cut", &l);
	ok(waiter_recent(
	       l.v[l.n - 1].id - 1, 0, "lobby", 1, spare, &spare_cur) == -1,
	    "recent rows: not used once the watcher has moved past them");
	test_catch_up(&l);
	event_list_clear(&l);
}

/*
 * A poll answered at once (not parked), as h_poll does from the store:
 * pieces each in a buffer of its own, so that none are merged.
 */
static void
test_direct(void)
{
	static struct event_piece  v[WAITER_MAX_EVENTS];
	static struct buf	   b[WAITER_MAX_EVENTS];
	static const struct event *e[WAITER_MAX_EVENTS];
	struct event_list	   l = { NULL, 0, 0 };
	struct buf		   want;
	size_t			   i, n;
	int			   sv[2], r, right = 0;

	buf_init(&want);
	for (r = 0; r < 3; r++) {
		n = r == 0 ? 1 : r == 1 ? 37 : WAITER_MAX_EVENTS;
		for (i = 0; i < n; i++)
			add(&l, "message", "lobby", "alice", "<x>\0",
			    (i % 5) * 11 % 6);
		for (i = 0; i < n; i++) {
			buf_init(&b[i]);
			event_piece_json(&b[i], &l.v[i]);
			v[i].id = l.v[i].id;
			v[i].json = b[i].data;
			v[i].len = b[i].len;
			e[i] = &l.v[i];
		}
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
			return;
		polls[0].fd = sv[1];
		polls[0].eof = 0;
		polls[0].id = 65535 - r;
		buf_init(&polls[0].got);
		npolls = 1;
		poll_answer(conn_new(sv[0], polls[0].id), v, n, 123456789);
		read_all();
		buf_reset(&want);
		ref_answer(&want, polls[0].id, e, n, 123456789);
		right += same(&polls[0], &want);
		close(sv[1]);
		buf_free(&polls[0].got);
		npolls = 0;
		for (i = 0; i < n; i++)
			buf_free(&b[i]);
		event_list_clear(&l);
	}
	ok(right == 3, "a poll answered at once: the same bytes as before");
	buf_free(&want);
}

int
main(void)
{
	if (loop_init() == -1) {
		perror("epoll");
		return 1;
	}
	waiter_init(64);
	waiter_mark(0); /* as watch_start does: the log is empty */
	test_one_event();
	test_mixed();
	test_large();
	test_many();
	test_direct();
	return tap_done();
}
