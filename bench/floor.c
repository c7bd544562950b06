/*
 * floor: the floor of chatd's architecture, a measuring stick for bench/run.
 *
 * A FastCGI long-poll responder with nothing behind it: no store (the
 * texts of the newest 1,024 events in memory), no sessions, no JSON
 * library. It listens on the unix socket that nginx
 * (tools/stack's, rendered from nginx.conf.example, so the very nginx
 * configuration chatd runs behind) passes /api/ to, speaks FastCGI itself
 * with epoll and non-blocking sockets, keeps nginx's connections
 * (FCGI_KEEP_CONN), parks every poll, and when a send comes answers every
 * parked poll with one small body of chatd's shape carrying the sent text.
 * What the fan-out through nginx costs with it is what any FastCGI
 * long-poll server behind nginx costs; chatd's figures are read as ratios
 * to it.
 *
 * It answers just what bench/loadgen's chatd client asks:
 *	POST /api/login		{"session":"floor","csrf":"floor","cursor":N}
 *	GET  /api/history	{"events":[]}
 *	GET  /api/poll?since=C&timeout=S
 *		C below the newest id: the events after C at once, at most
 *		32, oldest first (of the newest 1,024: older ones are gone);
 *		else it waits for the next send, or S seconds (default 25,
 *		at most 60), then
 *		{"cursor":N,"events":[{"id":N,...,"text":"..."}]}
 *	POST /api/send (text=...) {"id":N}; the text is 1 to 64 of digits,
 *		lowercase letters and ":._-" once decoded, else 400 bad_text
 *		and nothing changes
 *	GET  /api/health	{"status":"ok","parked":P,"cursor":N,"conns":K}
 * and anything else 404 (405 for a known path with the wrong method).
 *
 * FastCGI as the specification says: records with their padding, one
 * request at a time on a connection (FCGI_MPXS_CONNS 0: a second
 * BEGIN_REQUEST is refused with FCGI_CANT_MPX_CONN), FCGI_GET_VALUES
 * answered, unknown management records answered FCGI_UNKNOWN_TYPE, roles
 * other than RESPONDER refused, ABORT_REQUEST ended, every answer closed by
 * an empty STDOUT and END_REQUEST, and the connection closed after it
 * unless nginx asked to keep it. A connection that nginx closes frees the
 * poll parked on it.
 *
 * It takes the command line tools/stack gives chatd, so that
 * `CHATD=bench/floor tools/stack start DIR` runs it behind the same nginx:
 * --socket PATH, --socket-group GROUP and --user USER are used; --config,
 * --db and --workers, which mean nothing here, are read and ignored.
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* accept4 */
#endif
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define FCGI_BEGIN_REQUEST 1
#define FCGI_ABORT_REQUEST 2
#define FCGI_END_REQUEST 3
#define FCGI_PARAMS 4
#define FCGI_STDIN 5
#define FCGI_STDOUT 6
#define FCGI_GET_VALUES 9
#define FCGI_GET_VALUES_RESULT 10
#define FCGI_UNKNOWN_TYPE 11
#define FCGI_RESPONDER 1
#define FCGI_KEEP_CONN 1
#define FCGI_REQUEST_COMPLETE 0
#define FCGI_CANT_MPX_CONN 1
#define FCGI_UNKNOWN_ROLE 3

#define HDR 8		 /* bytes of a record header */
#define IN_FIRST 1024	 /* a connection's first input buffer */
#define PARAMS_MAX 8192	 /* bytes of a request's params */
#define BODY_MAX 1024	 /* bytes of a request's body */
#define TEXT_MAX 64	 /* bytes of a sent text, decoded */
#define POLL_DEFAULT 25	 /* seconds a poll waits, by default */
#define POLL_MAX 60	 /* and at most */
#define RING 1024	 /* the newest events kept, for pollers behind */
#define ANSWER_EVENTS 32 /* events in one answer, at most */
#define BODY_OUT 8192	 /* bytes of an answer's body, at most */
#define ANSWER_MAX (BODY_OUT + 256) /* bytes of one framed answer */

/* A request's state on its connection. */
enum stage { ST_IDLE, ST_PARAMS, ST_STDIN, ST_PARKED };

/* One connection from nginx, with at most one request on it. */
struct conn {
	int	     fd, stage, keep, closing, bad;
	unsigned     reqid;
	int64_t	     deadline;
	long long    since;	  /* a parked poll's cursor */
	struct conn *prev, *next; /* in the parked list */
	char	    *in, *out, *params, *body;
	size_t	     inlen, incap, outlen, outcap, plen, pcap, blen, bcap;
};

static int	    efd = -1, lfd = -1;
static volatile int stop;
static struct conn *parked; /* the parked polls, newest first */
static struct conn *dead;   /* closed in this turn of the loop */
static long	    nparked, nconns;
static long long    cursor;		      /* the newest event's id */
static char	    ring[RING][TEXT_MAX + 1]; /* event id's text at id % RING */
static char	    listen_marker;

static void conn_close(struct conn *);

static void
fatal(const char *what)
{
	fprintf(stderr, "floor: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int64_t
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* Make room for n more bytes at the end of *p (len used of *cap). */
static void
grow(char **p, size_t *cap, size_t len, size_t n)
{
	size_t want = *cap ? *cap : 256;

	if (len + n <= *cap)
		return;
	while (want < len + n)
		want *= 2;
	if ((*p = realloc(*p, want)) == NULL)
		fatal("realloc");
	*cap = want;
}

/* The 8-byte header of a record of type t, request id, content length n. */
static void
rec_header(unsigned char *h, int t, unsigned id, size_t n, size_t pad)
{
	h[0] = 1;
	h[1] = t;
	h[2] = id >> 8;
	h[3] = id & 0xff;
	h[4] = n >> 8;
	h[5] = n & 0xff;
	h[6] = pad;
	h[7] = 0;
}

/*
 * The whole answer to request id into dst (at least ANSWER_MAX bytes): a
 * STDOUT record of the CGI headers and body, padded to 8, the empty STDOUT
 * record and END_REQUEST. Its length, or 0 if it does not fit.
 */
static size_t
frame(char *dst, unsigned id, int status, const char *body, size_t blen)
{
	unsigned char *h = (unsigned char *)dst;
	size_t	       n, pad;
	int	       k;

	k = snprintf(dst + HDR, ANSWER_MAX - HDR - 32,
	    "Status: %d %s\r\n"
	    "Content-Type: application/json; charset=utf-8\r\n"
	    "Cache-Control: no-store\r\n"
	    "X-Content-Type-Options: nosniff\r\n"
	    "Content-Length: %zu\r\n\r\n",
	    status,
	    status == 200     ? "OK" :
		status == 400 ? "Bad Request" :
		status == 404 ? "Not Found" :
		status == 405 ? "Method Not Allowed" :
				"Payload Too Large",
	    blen);
	if (k < 0 || HDR + (size_t)k + blen + 7 + 2 * HDR + 8 > ANSWER_MAX)
		return 0;
	memcpy(dst + HDR + k, body, blen);
	n = k + blen;
	pad = (8 - n % 8) % 8;
	rec_header(h, FCGI_STDOUT, id, n, pad);
	memset(dst + HDR + n, 0, pad);
	h = (unsigned char *)dst + HDR + n + pad;
	rec_header(h, FCGI_STDOUT, id, 0, 0);
	rec_header(h + HDR, FCGI_END_REQUEST, id, 8, 0);
	memset(h + 2 * HDR, 0, 8); /* appStatus 0, FCGI_REQUEST_COMPLETE */
	return HDR + n + pad + 3 * HDR;
}

/* Ask epoll for EPOLLOUT on c while it has output waiting, else not. */
static void
conn_watch(struct conn *c)
{
	struct epoll_event ev;

	ev.events = EPOLLIN | EPOLLRDHUP | (c->outlen > 0 ? EPOLLOUT : 0);
	ev.data.ptr = c;
	if (epoll_ctl(efd, EPOLL_CTL_MOD, c->fd, &ev) == -1)
		fatal("epoll_ctl");
}

/*
 * Write p (n bytes) to c after what is waiting; what the socket does not
 * take now waits in c->out for EPOLLOUT. -1 if the connection is gone
 * (closed here).
 */
static int
conn_write(struct conn *c, const char *p, size_t n)
{
	ssize_t w = 0;
	int	waiting = c->outlen > 0;

	if (!waiting) {
		while ((w = send(c->fd, p, n, MSG_NOSIGNAL)) == -1 &&
		    errno == EINTR)
			;
		if (w == -1 && errno != EAGAIN) {
			conn_close(c);
			return -1;
		}
		if (w == -1)
			w = 0;
	}
	if ((size_t)w < n) {
		grow(&c->out, &c->outcap, c->outlen, n - w);
		memcpy(c->out + c->outlen, p + w, n - w);
		c->outlen += n - w;
		if (!waiting)
			conn_watch(c);
	}
	return 0;
}

/* EPOLLOUT: write what waits; close once written if the request said so. */
static void
conn_flush(struct conn *c)
{
	ssize_t w;

	while (c->outlen > 0) {
		w = send(c->fd, c->out, c->outlen, MSG_NOSIGNAL);
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1 && errno == EAGAIN)
			return;
		if (w <= 0) {
			conn_close(c);
			return;
		}
		memmove(c->out, c->out + w, c->outlen - w);
		c->outlen -= w;
	}
	if (c->closing)
		conn_close(c);
	else
		conn_watch(c);
}

static void
park_remove(struct conn *c)
{
	if (c->stage != ST_PARKED)
		return;
	if (c->prev)
		c->prev->next = c->next;
	else
		parked = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
	nparked--;
}

/*
 * Close c (which takes it out of epoll); its memory goes at the end of
 * this turn of the loop, since later events of the turn may name it.
 */
static void
conn_close(struct conn *c)
{
	if (c->fd < 0)
		return;
	park_remove(c);
	close(c->fd);
	c->fd = -1;
	c->next = dead;
	dead = c;
	nconns--;
}

static void
free_dead(void)
{
	struct conn *c;

	while ((c = dead) != NULL) {
		dead = c->next;
		free(c->in);
		free(c->out);
		free(c->params);
		free(c->body);
		free(c);
	}
}

/*
 * The request on c is answered with the framed bytes a (n): the connection
 * takes the next request, or closes once they are written if nginx did not
 * ask to keep it. -1 if c is gone.
 */
static int
finish(struct conn *c, const char *a, size_t n)
{
	park_remove(c);
	c->stage = ST_IDLE;
	c->reqid = 0;
	if (!c->keep)
		c->closing = 1;
	if (conn_write(c, a, n) == -1)
		return -1;
	if (c->closing && c->outlen == 0) {
		conn_close(c);
		return -1;
	}
	return 0;
}

/* Answer c's request with status and a JSON body. -1 if c is gone. */
static int
answer(struct conn *c, int status, const char *body)
{
	char   a[ANSWER_MAX];
	size_t n;

	n = frame(a, c->reqid, status, body, strlen(body));
	return finish(c, a, n);
}

/* The API's JSON error. */
static int
answer_error(struct conn *c, int status, const char *code)
{
	char b[128];

	snprintf(b, sizeof b, "{\"error\":\"%s\",\"message\":\"%s\"}", code,
	    "refused by the floor");
	return answer(c, status, b);
}

/*
 * A poll's answer body into b (BODY_OUT bytes): the events after since
 * that the ring still holds, at most ANSWER_EVENTS of them, and the cursor
 * of the last one (or the newest id, if none). Events older than the ring
 * are gone: a poller that far behind loses them, and loadgen counts it.
 */
static size_t
poll_body(char *b, long long since)
{
	long long id = since + 1, last, k;
	size_t	  n;

	if (id <= cursor - RING)
		id = cursor - RING + 1;
	last =
	    cursor < id + ANSWER_EVENTS - 1 ? cursor : id + ANSWER_EVENTS - 1;
	n = snprintf(b, BODY_OUT, "{\"cursor\":%lld,\"events\":[",
	    id <= last ? last : cursor);
	for (k = id; k <= last; k++)
		n += snprintf(b + n, BODY_OUT - n,
		    "%s{\"id\":%lld,\"type\":\"message\",\"room\":\"lobby\","
		    "\"from\":\"floor\",\"text\":\"%s\"}",
		    k > id ? "," : "", k, ring[k % RING]);
	n += snprintf(b + n, BODY_OUT - n, "]}");
	return n;
}

/*
 * Every parked poll gets the new event: one framing for all those waiting
 * for just it (all of them, as nginx writes request id 1); a poll parked
 * with a cursor ahead of it waits on.
 */
static void
fan_out(void)
{
	char	     b[BODY_OUT], a[ANSWER_MAX], ob[BODY_OUT], own[ANSWER_MAX];
	size_t	     blen, n, m;
	struct conn *c, *next;

	blen = poll_body(b, cursor - 1);
	n = frame(a, 1, 200, b, blen);
	for (c = parked; c != NULL; c = next) {
		next = c->next;
		if (c->since >= cursor)
			continue;
		if (c->reqid == 1 && c->since == cursor - 1)
			finish(c, a, n);
		else {
			m = poll_body(ob, c->since);
			m = frame(own, c->reqid, 200, ob, m);
			finish(c, own, m);
		}
	}
}

/* The value of key in a query string, copied into dst; -1 if absent. */
static int
query_get(const char *q, const char *key, char *dst, size_t size)
{
	size_t kl = strlen(key), n;

	while (*q != '\0') {
		n = strcspn(q, "&");
		if (n > kl && strncmp(q, key, kl) == 0 && q[kl] == '=') {
			if (n - kl - 1 >= size)
				return -1;
			memcpy(dst, q + kl + 1, n - kl - 1);
			dst[n - kl - 1] = '\0';
			return 0;
		}
		q += n;
		if (*q == '&')
			q++;
	}
	return -1;
}

/* A decimal number of at most 18 digits, or -1. */
static long long
number(const char *s)
{
	long long v = 0;
	int	  i;

	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9' || i >= 18)
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return i == 0 ? -1 : v;
}

static int
hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/*
 * The text field of a form body, percent-decoded into dst (TEXT_MAX + 1
 * bytes): 0 if it is there and made only of the safe characters, else -1.
 */
static int
form_text(const char *body, size_t len, char *dst)
{
	const char *p = body, *end = body + len, *f;
	size_t	    n = 0;
	int	    hi, lo, ch;

	for (; p < end; p = f + 1) {
		if ((f = memchr(p, '&', end - p)) == NULL)
			f = end;
		if (f - p < 5 || memcmp(p, "text=", 5) != 0)
			continue;
		for (p += 5; p < f; p++) {
			ch = (unsigned char)*p;
			if (ch == '%') {
				if (f - p < 3 || (hi = hexval(p[1])) == -1 ||
				    (lo = hexval(p[2])) == -1)
					return -1;
				ch = hi * 16 + lo;
				p += 2;
			}
			if (!((ch >= '0' && ch <= '9') ||
				(ch >= 'a' && ch <= 'z') || ch == ':' ||
				ch == '.' || ch == '_' || ch == '-') ||
			    n >= TEXT_MAX)
				return -1;
			dst[n++] = ch;
		}
		dst[n] = '\0';
		return n > 0 ? 0 : -1;
	}
	return -1;
}

/* A poll: the newest event now if the caller has not seen it, else park. */
static void
on_poll(struct conn *c, const char *query)
{
	char	  v[32], b[BODY_OUT];
	long long since = 0, timeout = POLL_DEFAULT;

	if ((query_get(query, "since", v, sizeof v) == 0 &&
		(since = number(v)) < 0) ||
	    (query_get(query, "timeout", v, sizeof v) == 0 &&
		((timeout = number(v)) < 0 || timeout > POLL_MAX))) {
		answer_error(c, 400, "bad_request");
		return;
	}
	if (since < cursor || timeout == 0) {
		poll_body(b, since);
		answer(c, 200, b);
		return;
	}
	c->stage = ST_PARKED;
	c->since = since;
	c->deadline = now_s() + timeout;
	c->prev = NULL;
	c->next = parked;
	if (parked)
		parked->prev = c;
	parked = c;
	nparked++;
}

/* A send: the text checked, the event made, every parked poll answered. */
static void
on_send(struct conn *c)
{
	char t[TEXT_MAX + 1], b[64];

	if (form_text(c->body, c->blen, t) == -1) {
		answer_error(c, 400, "bad_text");
		return;
	}
	cursor++;
	memcpy(ring[cursor % RING], t, sizeof ring[0]);
	fan_out();
	snprintf(b, sizeof b, "{\"id\":%lld}", cursor);
	answer(c, 200, b);
}

/* The request is whole: route it by path and method. */
static void
dispatch(struct conn *c, const char *method, const char *uri, const char *query)
{
	int get = strcmp(method, "GET") == 0,
	    post = strcmp(method, "POST") == 0;
	char b[160];

	if (strcmp(uri, "/api/poll") == 0 && get)
		on_poll(c, query);
	else if (strcmp(uri, "/api/send") == 0 && post)
		on_send(c);
	else if (strcmp(uri, "/api/login") == 0 && post) {
		snprintf(b, sizeof b,
		    "{\"session\":\"floor\",\"csrf\":\"floor\",\"cursor\":%lld}",
		    cursor);
		answer(c, 200, b);
	} else if (strcmp(uri, "/api/history") == 0 && get)
		answer(c, 200, "{\"events\":[]}");
	else if (strcmp(uri, "/api/health") == 0 && get) {
		snprintf(b, sizeof b,
		    "{\"status\":\"ok\",\"parked\":%ld,\"cursor\":%lld,"
		    "\"conns\":%ld}",
		    nparked, cursor, nconns);
		answer(c, 200, b);
	} else if (strcmp(uri, "/api/poll") == 0 ||
	    strcmp(uri, "/api/send") == 0 || strcmp(uri, "/api/login") == 0 ||
	    strcmp(uri, "/api/history") == 0 || strcmp(uri, "/api/health") == 0)
		answer_error(c, 405, "method_not_allowed");
	else
		answer_error(c, 404, "not_found");
}

/*
 * A FastCGI length at *p (1 or 4 bytes) within end; -1 if cut short.
 */
static long
nv_len(const unsigned char **p, const unsigned char *end)
{
	const unsigned char *q = *p;
	long		     n;

	if (q >= end)
		return -1;
	if (!(q[0] & 0x80)) {
		*p = q + 1;
		return q[0];
	}
	if (end - q < 4)
		return -1;
	n = ((long)(q[0] & 0x7f) << 24) | (q[1] << 16) | (q[2] << 8) | q[3];
	*p = q + 4;
	return n;
}

/*
 * The params of c's request, whole: the method, the path and the query
 * (NUL-terminated, cut to their sizes) are what the floor reads. -1 if the
 * pairs are malformed.
 */
static int
params_read(struct conn *c, char *method, char *uri, char *query)
{
	const unsigned char *p = (unsigned char *)c->params, *end = p + c->plen;
	long		     nl, vl;
	struct {
		const char *name;
		char	   *dst;
		size_t	    size;
	} want[] = { { "REQUEST_METHOD", method, 8 },
		{ "DOCUMENT_URI", uri, 64 }, { "QUERY_STRING", query, 256 } };
	size_t i, k;

	while (p < end) {
		if ((nl = nv_len(&p, end)) < 0 || (vl = nv_len(&p, end)) < 0 ||
		    end - p < nl + vl)
			return -1;
		for (i = 0; i < sizeof want / sizeof want[0]; i++) {
			if ((size_t)nl != strlen(want[i].name) ||
			    memcmp(p, want[i].name, nl) != 0)
				continue;
			k = (size_t)vl < want[i].size ? (size_t)vl :
							want[i].size - 1;
			memcpy(want[i].dst, p + nl, k);
			want[i].dst[k] = '\0';
		}
		p += nl + vl;
	}
	return 0;
}

/* FCGI_GET_VALUES: the values asked for that the floor knows. */
static int
get_values(struct conn *c, const unsigned char *p, size_t n)
{
	const unsigned char *end = p + n;
	char		     out[HDR + 128];
	size_t		     o = HDR, pad;
	long		     nl, vl;
	const char	    *v;

	while (p < end) {
		if ((nl = nv_len(&p, end)) < 0 || (vl = nv_len(&p, end)) < 0 ||
		    end - p < nl + vl)
			break;
		v = nl == 14 && memcmp(p, "FCGI_MAX_CONNS", 14) == 0 ?
		    "100000" :
		    nl == 13 && memcmp(p, "FCGI_MAX_REQS", 13) == 0 ? "100000" :
		    nl == 15 && memcmp(p, "FCGI_MPXS_CONNS", 15) == 0 ? "0" :
									NULL;
		if (v != NULL && o + 2 + nl + strlen(v) <= HDR + 120) {
			out[o++] = nl;
			out[o++] = strlen(v);
			memcpy(out + o, p, nl);
			memcpy(out + o + nl, v, strlen(v));
			o += nl + strlen(v);
		}
		p += nl + vl;
	}
	pad = (8 - (o - HDR) % 8) % 8;
	memset(out + o, 0, pad);
	rec_header(
	    (unsigned char *)out, FCGI_GET_VALUES_RESULT, 0, o - HDR, pad);
	return conn_write(c, out, o + pad);
}

/* A management record nobody asked for: FCGI_UNKNOWN_TYPE. */
static int
unknown_type(struct conn *c, int type)
{
	unsigned char r[2 * HDR];

	rec_header(r, FCGI_UNKNOWN_TYPE, 0, 8, 0);
	memset(r + HDR, 0, 8);
	r[HDR] = type;
	return conn_write(c, (char *)r, sizeof r);
}

/* An END_REQUEST record (16 bytes) with appStatus 0 and a protocol status. */
static void
end_record(unsigned char *r, unsigned id, int status)
{
	rec_header(r, FCGI_END_REQUEST, id, 8, 0);
	memset(r + HDR, 0, 8);
	r[HDR + 4] = status;
}

/* END_REQUEST for a request the floor refuses. */
static int
refuse(struct conn *c, unsigned id, int status)
{
	unsigned char r[2 * HDR];

	end_record(r, id, status);
	return conn_write(c, (char *)r, sizeof r);
}

/* BEGIN_REQUEST: a new request, if the connection has none. */
static int
on_begin(struct conn *c, unsigned id, const unsigned char *p, size_t n)
{
	int role = n >= 8 ? (p[0] << 8) | p[1] : 0;

	if (c->stage != ST_IDLE)
		return refuse(c, id, FCGI_CANT_MPX_CONN);
	c->keep = n >= 8 && (p[2] & FCGI_KEEP_CONN);
	if (role != FCGI_RESPONDER) {
		if (refuse(c, id, FCGI_UNKNOWN_ROLE) == -1)
			return -1;
		if (!c->keep) {
			c->closing = 1;
			if (c->outlen == 0) {
				conn_close(c);
				return -1;
			}
		}
		return 0;
	}
	c->stage = ST_PARAMS;
	c->reqid = id;
	c->plen = c->blen = 0;
	c->bad = 0;
	return 0;
}

/*
 * The request's params and body are whole: answer it, or park it, and let
 * them go (a parked poll keeps neither). -1 if c is gone.
 */
static int
request_run(struct conn *c)
{
	char method[8] = "", uri[64] = "", query[256] = "";

	if (c->bad)
		answer_error(c, 413, "too_large");
	else if (params_read(c, method, uri, query) == -1)
		answer_error(c, 400, "bad_request");
	else
		dispatch(c, method, uri, query);
	free(c->params);
	free(c->body);
	c->params = c->body = NULL;
	c->pcap = c->bcap = 0;
	return c->fd < 0 ? -1 : 0;
}

/* One record of c's input, whole. -1 if c is gone. */
static int
on_record(
    struct conn *c, int type, unsigned id, const unsigned char *p, size_t n)
{
	unsigned char r[2 * HDR];

	if (id == 0)
		return type == FCGI_GET_VALUES ? get_values(c, p, n) :
						 unknown_type(c, type);
	if (type == FCGI_BEGIN_REQUEST)
		return on_begin(c, id, p, n);
	if (id != c->reqid || c->stage == ST_IDLE)
		return 0; /* a request already ended: its leftovers */
	if (type == FCGI_ABORT_REQUEST) {
		end_record(r, id, FCGI_REQUEST_COMPLETE);
		return finish(c, (char *)r, sizeof r);
	}
	if (type == FCGI_PARAMS && c->stage == ST_PARAMS) {
		if (n == 0)
			c->stage = ST_STDIN;
		else if (c->plen + n > PARAMS_MAX)
			c->bad = 1;
		else {
			grow(&c->params, &c->pcap, c->plen, n);
			memcpy(c->params + c->plen, p, n);
			c->plen += n;
		}
	} else if (type == FCGI_STDIN && c->stage == ST_STDIN) {
		if (n > 0 && c->blen + n > BODY_MAX)
			c->bad = 1;
		else if (n > 0) {
			grow(&c->body, &c->bcap, c->blen, n);
			memcpy(c->body + c->blen, p, n);
			c->blen += n;
		} else
			return request_run(c);
	}
	return 0;
}

/* EPOLLIN: read what came and handle every whole record in it. */
static void
conn_read(struct conn *c)
{
	const unsigned char *h;
	size_t		     off = 0, need, clen;
	ssize_t		     r;

	if (c->incap - c->inlen < 512)
		grow(&c->in, &c->incap, c->inlen, c->incap);
	while (
	    (r = recv(c->fd, c->in + c->inlen, c->incap - c->inlen, 0)) == -1 &&
	    errno == EINTR)
		;
	if (r == -1 && errno == EAGAIN)
		return;
	if (r <= 0) {
		conn_close(c);
		return;
	}
	c->inlen += r;
	while (c->inlen - off >= HDR) {
		h = (unsigned char *)c->in + off;
		if (h[0] != 1) { /* not FastCGI 1 */
			conn_close(c);
			return;
		}
		clen = (h[4] << 8) | h[5];
		need = HDR + clen + h[6];
		if (c->inlen - off < need) {
			grow(&c->in, &c->incap, c->inlen, need);
			break;
		}
		off += need;
		if (on_record(c, h[1], (h[2] << 8) | h[3], h + HDR, clen) == -1)
			return;
	}
	memmove(c->in, c->in + off, c->inlen - off);
	c->inlen -= off;
}

static void
accept_all(void)
{
	struct epoll_event ev;
	struct conn	  *c;
	int		   fd;

	while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) !=
	    -1) {
		if ((c = calloc(1, sizeof *c)) == NULL) {
			close(fd);
			return;
		}
		c->fd = fd;
		grow(&c->in, &c->incap, 0, IN_FIRST);
		ev.events = EPOLLIN | EPOLLRDHUP;
		ev.data.ptr = c;
		if (epoll_ctl(efd, EPOLL_CTL_ADD, fd, &ev) == -1)
			fatal("epoll_ctl");
		nconns++;
	}
	if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
		fprintf(stderr, "floor: accept: %s\n", strerror(errno));
}

/* Polls whose time is up get their empty answer. */
static void
expire(void)
{
	struct conn *c, *next;
	char	     b[BODY_OUT];
	int64_t	     now = now_s();

	poll_body(b, cursor);
	for (c = parked; c != NULL; c = next) {
		next = c->next;
		if (c->deadline <= now)
			answer(c, 200, b);
	}
}

/* The socket, made reachable by group (nginx's), then the user dropped to. */
static void
listen_on(const char *path, const char *group, const char *user)
{
	struct sockaddr_un sun;
	struct group	  *gr = NULL;
	struct passwd	  *pw = NULL;

	if (strlen(path) >= sizeof sun.sun_path) {
		fprintf(stderr, "floor: socket path too long\n");
		exit(1);
	}
	if ((group && (gr = getgrnam(group)) == NULL) ||
	    (user && (pw = getpwnam(user)) == NULL)) {
		fprintf(stderr, "floor: no such group or user\n");
		exit(1);
	}
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path));
	if ((lfd = socket(
		 AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1)
		fatal("socket");
	unlink(path);
	if (bind(lfd, (struct sockaddr *)&sun, sizeof sun) == -1)
		fatal("bind");
	if (chmod(path, gr ? 0660 : 0600) == -1 ||
	    (gr && chown(path, pw ? pw->pw_uid : (uid_t)-1, gr->gr_gid) == -1))
		fatal("chmod");
	if (listen(lfd, 4096) == -1)
		fatal("listen");
	if (pw &&
	    (setgroups(0, NULL) == -1 || setgid(pw->pw_gid) == -1 ||
		setuid(pw->pw_uid) == -1))
		fatal("dropping privileges");
}

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: floor --socket PATH [--socket-group GROUP] "
	    "[--user USER]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct epoll_event ev[256];
	struct sigaction   sa;
	struct conn	  *c;
	const char	  *path = NULL, *group = NULL, *user = NULL;
	int64_t		   next_expire = 0;
	int		   i, n;

	for (i = 1; i < argc; i++) {
		if (i + 1 >= argc)
			usage();
		if (strcmp(argv[i], "--socket") == 0)
			path = argv[++i];
		else if (strcmp(argv[i], "--socket-group") == 0)
			group = argv[++i];
		else if (strcmp(argv[i], "--user") == 0)
			user = argv[++i];
		else if (strcmp(argv[i], "--config") == 0 ||
		    strcmp(argv[i], "--db") == 0 ||
		    strcmp(argv[i], "--workers") == 0)
			i++;
		else
			usage();
	}
	if (path == NULL)
		usage();
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	listen_on(path, group, user);
	if ((efd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		fatal("epoll_create1");
	ev[0].events = EPOLLIN;
	ev[0].data.ptr = &listen_marker;
	if (epoll_ctl(efd, EPOLL_CTL_ADD, lfd, &ev[0]) == -1)
		fatal("epoll_ctl");
	fprintf(stderr, "floor: listening on %s\n", path);
	while (!stop) {
		n = epoll_wait(efd, ev, 256, parked ? 1000 : -1);
		if (n == -1 && errno != EINTR)
			fatal("epoll_wait");
		for (i = 0; i < n; i++) {
			if (ev[i].data.ptr == &listen_marker) {
				accept_all();
				continue;
			}
			c = ev[i].data.ptr;
			if (c->fd >= 0 && (ev[i].events & EPOLLOUT))
				conn_flush(c);
			if (c->fd >= 0 && (ev[i].events & ~EPOLLOUT))
				conn_read(c);
		}
		if (parked && now_s() >= next_expire) {
			expire();
			next_expire = now_s() + 1;
		}
		free_dead();
	}
	unlink(path);
	return 0;
}
