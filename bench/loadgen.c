/*
 * loadgen: the load generator of chatd's benchmark suite (bench/run).
 *
 * One process drives thousands of HTTP/1.1 keep-alive connections with
 * epoll and non-blocking sockets: no thread per connection, no library but
 * libc. It speaks to four targets: chatd's API (login, poll with cursors,
 * send), nchan's long-poll pub/sub, Socket.IO 4's Engine.IO polling
 * transport, and a bare nginx "return 200" (the ceiling); bench/floor, the
 * floor of FastCGI behind nginx, is spoken to as chatd. Pollers wait for
 * news; senders write messages whose text, "b:SEQ:NANOS", carries a
 * sequence number and the CLOCK_MONOTONIC time of the send, so that every
 * poller times each delivery and keeps a bitmap of what it has seen (lost,
 * duplicated).
 *
 * The parent process forks the workers (enough to stay under ~16,000
 * descriptors each, or as many as --procs asks), walks them through the
 * phases over pipes (set up: connect and log in; park: every poller has a
 * poll waiting; run: the senders send; drain: the last deliveries arrive),
 * then merges their results into one machine-readable RESULT line and a
 * sentence for people. --sources A-B spreads the clients over the source
 * addresses A to B (of 127.0.0.0/8, say): one source address has only the
 * ~28,000 ephemeral ports of ip_local_port_range towards one server port,
 * so 100,000 clients need four or more. --quiet S keeps the parked polls
 * waiting S seconds before the first send, for whoever measures them idle.
 * --share K makes K pollers of chatd share one session (K tabs of one
 * browser), each with a poll and a connection of its own: a login answer
 * lists every live session, so N logins cost N * N / 2 of them.
 *
 *	loadgen --target chatd|nchan|socketio|ceiling|floor
 *	    --scenario park|fanout|rate|sends --port N [options]
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define NS 1000000000LL
#define MS 1000000LL
#define TICK_NS (50 * MS)
#define RETRY_NS (200 * MS)
#define MAX_TRIES 5
#define FDS_PER_PROC 16000
#define H_FINE 10000	     /* 10 us buckets up to 100 ms */
#define H_N (H_FINE + 60000) /* then 1 ms buckets to 60.1 s */

enum target { T_CHATD, T_NCHAN, T_SOCKETIO, T_CEILING, T_FLOOR };
enum scen { S_PARK, S_FANOUT, S_RATE, S_SENDS };
enum role { R_POLLER, R_SENDER };
enum kind {
	K_NONE,
	K_CONNECT,
	K_LOGIN,
	K_HISTORY,
	K_OPEN,
	K_JOIN,
	K_POLL,
	K_SEND,
	K_PONG
};
enum stage { G_NEW, G_SETUP, G_READY, G_STARTING, G_RUN, G_DEAD };
enum phase { P_SETUP, P_WAIT_GO, P_PARK, P_RUN, P_DRAIN };
enum err { E_CONNECT, E_STATUS, E_TIMEOUT, E_CLOSED, E_PARSE };

static const char *target_names[] = { "chatd", "nchan", "socketio", "ceiling",
	"floor" };
/*
 * bench/floor speaks chatd's API (the part of it that the load generator
 * uses), so its clients are chatd's: the same requests, the same parsing.
 */
#define CHATD_API (O.target == T_CHATD || O.target == T_FLOOR)

static const char *scen_names[] = { "park", "fanout", "rate", "sends" };

struct opts {
	int	    target, scen, port, procs;
	int	    pollers, senders, count, window, poll_timeout;
	double	    interval, rate, duration, hold, setup_timeout, drain;
	double	    quiet;
	uint32_t    src_first; /* first source address, host order */
	int	    src_n;     /* how many, from src_first on; 0: any */
	int	    share;     /* chatd pollers per session */
	const char *path;
	uint32_t    maxseq; /* sequence numbers tracked */
};

struct hist {
	uint64_t n, max_us;
	uint32_t b[H_N];
};

/* What a worker measured; the parent sums them. */
struct stats {
	uint64_t    deliveries, dup, stray, polls, sends_ok, sends_err;
	uint64_t    err[5], err_setup, parked, alive;
	int64_t	    last_ns, send_last_ns;
	struct hist lat, slat;
};

struct resp {
	int    status, close;
	char  *body;
	size_t blen;
	char   etag[64], lastmod[64];
};

struct client;

/* One TCP connection of a client, with one request at a time. */
struct conn {
	struct client *cl;
	int	       fd, connected, kind, reused, retried;
	size_t	       wlen, woff, rlen, rcap;
	char	      *r;
	int64_t	       deadline;
	char	       w[640];
};

/* A poller or a sender; Socket.IO clients need c[1] for their POSTs. */
struct client {
	int	    id, role, stage, tries, polling, pongs, idle;
	int64_t	    retry_at, seq_ns;
	uint64_t    seq;
	long long   cursor;
	uint32_t    nseen;
	uint8_t	   *seen;
	struct conn c[2];
	char	    session[80], csrf[80], sid[64], etag[64], lastmod[64];
};

struct worker {
	int	       id, efd, cmd_in, res_out, ncl, nsenders;
	int	       phase, setup_next, setup_active, setup_done;
	int	       start_next, start_active, npolling, said_parked;
	int	       said_done, nidle;
	struct client *cl, **idle;
	uint64_t       next_seq, total, drain_acked;
	int64_t	       t0, t_end, last_poll_resp, drain_until, deadline;
	int64_t	       next_tick;
	uint8_t	      *acked;
	uint32_t      *counts;
	struct stats   st;
};

static struct opts O = {
	.target = T_CHATD,
	.scen = S_PARK,
	.port = 0,
	.procs = 0,
	.pollers = 1000,
	.senders = -1,
	.count = 50,
	.window = 128,
	.poll_timeout = 55,
	.interval = 0.1,
	.rate = 200,
	.duration = 10,
	.hold = 10,
	.setup_timeout = 180,
	.drain = 10,
	.share = 1,
	.path = NULL,
};
static struct worker W;
static char	     cmd_marker;
static int	     parent_pid;

static void poll_issue(struct client *);
static void setup_finish(struct client *, int);
static void start_finish(struct client *);
static void sender_idle(struct client *);

static void
die(const char *what)
{
	fprintf(stderr, "loadgen: %s: %s\n", what, strerror(errno));
	exit(2);
}

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NS + ts.tv_nsec;
}

static void *
xcalloc(size_t n, size_t size)
{
	void *p;

	if ((p = calloc(n ? n : 1, size ? size : 1)) == NULL)
		die("calloc");
	return p;
}

/* Write all of buf to fd (a pipe), or exit. */
static void
write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t	    n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			die("write to pipe");
		}
		p += n;
		len -= n;
	}
}

/* Read all of buf from fd; -1 at end of file. */
static int
read_all(int fd, void *buf, size_t len)
{
	char   *p = buf;
	ssize_t n;

	while (len > 0) {
		if ((n = read(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

/* A fixed-size message between parent and worker: a letter and a number. */
static void
msg_send(int fd, char type, uint64_t arg)
{
	char m[9];

	m[0] = type;
	memcpy(m + 1, &arg, 8);
	write_all(fd, m, sizeof m);
}

static int
msg_recv(int fd, char *type, uint64_t *arg)
{
	char m[9];

	if (read_all(fd, m, sizeof m) == -1)
		return -1;
	*type = m[0];
	memcpy(arg, m + 1, 8);
	return 0;
}

/* --- histograms --- */

static void
hist_add(struct hist *h, int64_t ns)
{
	uint64_t us = ns < 0 ? 0 : (uint64_t)ns / 1000;
	size_t	 i;

	if (us < 100000)
		i = us / 10;
	else if ((i = H_FINE + (us - 100000) / 1000) >= H_N)
		i = H_N - 1;
	h->b[i]++;
	h->n++;
	if (us > h->max_us)
		h->max_us = us;
}

/* The p-th quantile in milliseconds: the upper edge of its bucket. */
static double
hist_ms(const struct hist *h, double p)
{
	uint64_t rank, seen = 0;
	double	 ms;
	size_t	 i;

	if (h->n == 0)
		return 0;
	rank = (uint64_t)(p * (double)h->n);
	if ((double)rank < p * (double)h->n || rank == 0)
		rank++;
	for (i = 0; i < H_N; i++) {
		if ((seen += h->b[i]) >= rank)
			break;
	}
	ms = i < H_FINE ? (i + 1) * 0.01 : 100.0 + (i - H_FINE + 1);
	return ms < h->max_us / 1000.0 ? ms : h->max_us / 1000.0;
}

static void
hist_merge(struct hist *to, const struct hist *from)
{
	size_t i;

	for (i = 0; i < H_N; i++)
		to->b[i] += from->b[i];
	to->n += from->n;
	if (from->max_us > to->max_us)
		to->max_us = from->max_us;
}

/* --- HTTP response parsing: pure functions over a buffer --- */

/*
 * Walk a chunked body from p; with compact set, move the data down to the
 * start of the body. The end of the message, 0 if incomplete, -1 if bad.
 */
static ssize_t
chunked_walk(char *b, size_t len, size_t p, int compact, size_t *blen)
{
	size_t	      o = p, start = p;
	unsigned long n;
	char	     *nl, *e;

	for (;;) {
		if ((nl = memmem(b + p, len - p, "\r\n", 2)) == NULL)
			return len - p > 64 ? -1 : 0;
		n = strtoul(b + p, &e, 16);
		if (e == b + p)
			return -1;
		p = nl + 2 - b;
		if (n == 0)
			break;
		if (len - p < n + 2)
			return 0;
		if (compact)
			memmove(b + o, b + p, n);
		o += n;
		p += n + 2;
	}
	for (;;) { /* trailers, then the empty line */
		if ((nl = memmem(b + p, len - p, "\r\n", 2)) == NULL)
			return 0;
		if (nl == b + p)
			break;
		p = nl + 2 - b;
	}
	*blen = o - start;
	return p + 2;
}

/* Copy a header value into dst (NUL-terminated, cut to size). */
static void
header_copy(char *dst, size_t size, const char *v, size_t n)
{
	if (n >= size)
		n = size - 1;
	memcpy(dst, v, n);
	dst[n] = '\0';
}

/* Read one header line into r; *clen and *chunked as they say. */
static void
header_line(
    const char *l, size_t n, struct resp *r, long long *clen, int *chunked)
{
	const char *colon = memchr(l, ':', n), *v;
	size_t	    nl, vl;

	if (colon == NULL)
		return;
	nl = colon - l;
	for (v = colon + 1; v < l + n && (*v == ' ' || *v == '\t'); v++)
		;
	vl = l + n - v;
	if (nl == 14 && strncasecmp(l, "content-length", 14) == 0)
		*clen = strtoll(v, NULL, 10);
	else if (nl == 17 && strncasecmp(l, "transfer-encoding", 17) == 0)
		*chunked = memmem(v, vl, "chunked", 7) != NULL;
	else if (nl == 10 && strncasecmp(l, "connection", 10) == 0)
		r->close = vl >= 5 && strncasecmp(v, "close", 5) == 0;
	else if (nl == 4 && strncasecmp(l, "etag", 4) == 0)
		header_copy(r->etag, sizeof r->etag, v, vl);
	else if (nl == 13 && strncasecmp(l, "last-modified", 13) == 0)
		header_copy(r->lastmod, sizeof r->lastmod, v, vl);
}

/*
 * Parse one HTTP/1.1 response in b[0..len). eof says the peer has closed.
 * Returns the bytes it takes (r filled, the body in place), 0 when more
 * are needed, -1 when it is not HTTP.
 */
static ssize_t
resp_parse(char *b, size_t len, int eof, struct resp *r)
{
	char	 *he, *l, *nl;
	long long clen = -1;
	int	  chunked = 0;
	size_t	  hlen;
	ssize_t	  end;

	memset(r, 0, sizeof *r);
	if ((he = memmem(b, len, "\r\n\r\n", 4)) == NULL)
		return len > 65536 ? -1 : 0;
	if (len < 12 || memcmp(b, "HTTP/1.", 7) != 0)
		return -1;
	r->status = atoi(b + 9);
	r->close = b[7] == '0';
	hlen = he + 4 - b;
	for (l = (char *)memmem(b, len, "\r\n", 2) + 2; l < he; l = nl + 2) {
		nl = memmem(l, he + 2 - l, "\r\n", 2);
		header_line(l, nl - l, r, &clen, &chunked);
	}
	r->body = b + hlen;
	if (r->status / 100 == 1 || r->status == 204 || r->status == 304)
		return hlen;
	if (chunked) {
		if ((end = chunked_walk(b, len, hlen, 0, &r->blen)) <= 0)
			return end;
		return chunked_walk(b, len, hlen, 1, &r->blen);
	}
	if (clen >= 0) {
		if (len - hlen < (size_t)clen)
			return 0;
		r->blen = clen;
		return hlen + clen;
	}
	if (!eof)
		return 0;
	r->blen = len - hlen;
	r->close = 1;
	return len;
}

/*
 * Digits at *pp, never past end (a body is not NUL-terminated: nchan's
 * single-message answer ends with the last digit of the timestamp, and
 * the next bytes in the buffer may be digits of something else).
 */
static int
digits(const char **pp, const char *end, unsigned long long *v)
{
	const char *p = *pp;

	*v = 0;
	while (p < end && isdigit((unsigned char)*p))
		*v = *v * 10 + (unsigned long long)(*p++ - '0');
	if (p == *pp)
		return -1;
	*pp = p;
	return 0;
}

/* Find "key": in a JSON text and return where its value starts. */
static const char *
json_find(const char *b, size_t n, const char *key)
{
	char	    pat[40];
	const char *p;
	int	    k;

	k = snprintf(pat, sizeof pat, "\"%s\"", key);
	if ((p = memmem(b, n, pat, k)) == NULL)
		return NULL;
	for (p += k; p < b + n && (*p == ' ' || *p == ':'); p++)
		;
	return p < b + n ? p : NULL;
}

/* Copy the JSON string value of key into dst; -1 if absent. */
static int
json_str(const char *b, size_t n, const char *key, char *dst, size_t size)
{
	const char *p = json_find(b, n, key), *q;

	if (p == NULL || *p != '"')
		return -1;
	p++;
	if ((q = memchr(p, '"', b + n - p)) == NULL || (size_t)(q - p) >= size)
		return -1;
	memcpy(dst, p, q - p);
	dst[q - p] = '\0';
	return 0;
}

static long long
json_int(const char *b, size_t n, const char *key)
{
	const char	  *p = json_find(b, n, key);
	unsigned long long v;

	return p == NULL || digits(&p, b + n, &v) == -1 ? -1 : (long long)v;
}

/* The largest "id" in a JSON text: the newest event of a history. */
static long long
json_max_id(const char *b, size_t n)
{
	const char	  *p = b, *q;
	unsigned long long id, max = 0;

	while ((q = memmem(p, b + n - p, "\"id\":", 5)) != NULL) {
		p = q + 5;
		if (digits(&p, b + n, &id) == 0 && id > max)
			max = id;
	}
	return (long long)max;
}

/* --- deliveries --- */

static void
deliver(struct client *cl, uint64_t seq, int64_t sent, int64_t now)
{
	if (seq >= O.maxseq) {
		W.st.stray++;
		return;
	}
	if (cl->seen[seq / 8] & (1 << (seq % 8))) {
		W.st.dup++;
		return;
	}
	cl->seen[seq / 8] |= 1 << (seq % 8);
	cl->nseen++;
	W.counts[seq]++;
	W.st.deliveries++;
	hist_add(&W.st.lat, now - sent);
	W.st.last_ns = now;
}

/* Find every "b:SEQ:NANOS" in a body, whatever wraps it. */
static void
scan_seqs(struct client *cl, const char *b, size_t n, int64_t now)
{
	const char	  *p = b, *q, *end = b + n;
	unsigned long long seq, ns;

	while (p < end && (q = memmem(p, end - p, "b:", 2)) != NULL) {
		p = q + 2;
		if (q > b && isalnum((unsigned char)q[-1]))
			continue;
		if (digits(&p, end, &seq) == -1 || p >= end || *p != ':')
			continue;
		p++;
		if (digits(&p, end, &ns) == -1)
			continue;
		deliver(cl, seq, (int64_t)ns, now);
	}
}

/* --- connections --- */

static void
conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->connected = 0;
}

static void client_error(struct client *, int);

/* The request on c failed: count it, close, let the client decide. */
static void
conn_fail(struct conn *c, int err)
{
	int kind = c->kind;

	W.st.err[err]++;
	conn_close(c);
	c->kind = K_NONE;
	client_error(c->cl, kind);
}

/* The source address of client id: the clients take turns. */
static uint32_t
source_of(int id)
{
	return O.src_first + (uint32_t)id % (uint32_t)O.src_n;
}

static int
conn_open(struct conn *c)
{
	struct sockaddr_in sin;
	struct epoll_event ev;
	int		   one = 1;

	if ((c->fd = socket(
		 AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	if (O.src_n > 0) {
		/*
		 * The port is chosen at connect, per 4-tuple, not at bind:
		 * else bind would take one of the ~28,000 for good.
		 */
		setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
		    sizeof one);
		sin.sin_addr.s_addr = htonl(source_of(c->cl->id));
		if (bind(c->fd, (struct sockaddr *)&sin, sizeof sin) == -1)
			goto fail;
	}
	sin.sin_port = htons(O.port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	c->connected = 0;
	if (connect(c->fd, (struct sockaddr *)&sin, sizeof sin) == -1 &&
	    errno != EINPROGRESS)
		goto fail;
	ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
	ev.data.ptr = c;
	if (epoll_ctl(W.efd, EPOLL_CTL_ADD, c->fd, &ev) == -1)
		goto fail;
	return 0;
fail:
	close(c->fd);
	c->fd = -1;
	return -1;
}

static void
conn_flush(struct conn *c)
{
	ssize_t n;

	while (c->woff < c->wlen) {
		n = send(
		    c->fd, c->w + c->woff, c->wlen - c->woff, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return;
		if (n <= 0) {
			conn_fail(c, E_CLOSED);
			return;
		}
		c->woff += n;
	}
}

/* Send the request in c->w (wlen bytes), connecting first if need be. */
static void
conn_send(struct conn *c, int kind, int64_t timeout)
{
	int64_t now = now_ns();

	c->kind = kind;
	c->woff = 0;
	c->rlen = 0;
	c->deadline = now + timeout;
	if (c->fd < 0) {
		c->reused = 0;
		if (conn_open(c) == -1)
			conn_fail(c, E_CONNECT);
		return;
	}
	if (!c->connected)
		return;
	c->reused = 1;
	conn_flush(c);
}

/* Connect c with no request: the set-up of targets without a login. */
static void
conn_connect(struct conn *c)
{
	c->wlen = 0;
	conn_send(c, K_CONNECT, 10 * NS);
}

static void on_response(struct conn *, int, struct resp *);

/* A whole response is in c->r: hand it over, keep what follows. */
static void
conn_complete(struct conn *c, struct resp *r, size_t used)
{
	int kind = c->kind;

	c->kind = K_NONE;
	c->retried = 0;
	if (r->close)
		conn_close(c);
	on_response(c, kind, r);
	if (c->rlen > used && c->kind == K_NONE) {
		memmove(c->r, c->r + used, c->rlen - used);
		c->rlen -= used;
	} else if (c->kind == K_NONE)
		c->rlen = 0;
}

/* The peer closed before answering: retry once on a fresh connection. */
static void
conn_closed(struct conn *c)
{
	if (c->kind == K_NONE || (c->rlen == 0 && c->reused && !c->retried)) {
		int kind = c->kind;

		conn_close(c);
		if (kind != K_NONE) {
			c->retried = 1;
			c->reused = 0;
			c->rlen = 0;
			c->woff = 0;
			if (conn_open(c) == -1)
				conn_fail(c, E_CONNECT);
		}
		return;
	}
	conn_fail(c, E_CLOSED);
}

static void
conn_read(struct conn *c)
{
	struct resp r;
	ssize_t	    n, used;
	int	    eof = 0;

	for (;;) {
		if (c->rcap - c->rlen < 4096) {
			c->rcap = c->rcap ? c->rcap * 2 : 8192;
			if ((c->r = realloc(c->r, c->rcap)) == NULL)
				die("realloc");
		}
		n = recv(c->fd, c->r + c->rlen, c->rcap - c->rlen, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			break;
		if (n <= 0) {
			eof = 1;
			break;
		}
		c->rlen += n;
	}
	if (c->kind == K_NONE) { /* an idle keep-alive connection */
		c->rlen = 0;
		if (eof)
			conn_close(c);
		return;
	}
	if ((used = resp_parse(c->r, c->rlen, eof, &r)) > 0)
		conn_complete(c, &r, used);
	else if (used < 0)
		conn_fail(c, E_PARSE);
	else if (eof)
		conn_closed(c);
}

static void
conn_connected(struct conn *c)
{
	int		   err = 0;
	socklen_t	   len = sizeof err;
	struct sockaddr_in sin;
	socklen_t	   slen = sizeof sin;

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1 ||
	    err != 0) {
		conn_fail(c, E_CONNECT);
		return;
	}
	if (getpeername(c->fd, (struct sockaddr *)&sin, &slen) == -1)
		return; /* still connecting */
	c->connected = 1;
	if (c->kind == K_CONNECT) {
		c->kind = K_NONE;
		on_response(c, K_CONNECT, NULL);
	} else if (c->kind != K_NONE)
		conn_flush(c);
}

static void
conn_event(struct conn *c, uint32_t ev)
{
	if (c->fd < 0)
		return;
	if (!c->connected) {
		if (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP))
			conn_connected(c);
		if (c->fd < 0 || !c->connected)
			return;
	}
	if ((ev & EPOLLOUT) && c->kind != K_NONE && c->woff < c->wlen)
		conn_flush(c);
	if (c->fd >= 0 && (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
		conn_read(c);
}

/* --- requests, one builder per protocol step --- */

static void req_start(struct conn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Format a request into c->w. */
static void
req_start(struct conn *c, const char *fmt, ...)
{
	va_list ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(c->w, sizeof c->w, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof c->w) {
		fprintf(stderr, "loadgen: request too long\n");
		exit(2);
	}
	c->wlen = n;
}

static void
req_login(struct client *cl)
{
	char body[64];
	int  n;

	n = snprintf(
	    body, sizeof body, "nick=b%dx%d", parent_pid % 100000, cl->id);
	req_start(&cl->c[0],
	    "POST /api/login HTTP/1.1\r\n"
	    "Host: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded"
	    "\r\nContent-Length: %d\r\n\r\n%s",
	    n, body);
	conn_send(&cl->c[0], K_LOGIN, 30 * NS);
}

static void
req_history(struct client *cl)
{
	req_start(&cl->c[0],
	    "GET /api/history?room=lobby&limit=1 HTTP/1.1\r\n"
	    "Host: 127.0.0.1\r\nX-Chat-Session: %s\r\n\r\n",
	    cl->session);
	conn_send(&cl->c[0], K_HISTORY, 30 * NS);
}

static const char *
sio_role(struct client *cl)
{
	return cl->role == R_POLLER ? "p" : "s";
}

static void
req_open(struct client *cl)
{
	req_start(&cl->c[0],
	    "GET /socket.io/?EIO=4&transport=polling&role=%s"
	    " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
	    sio_role(cl));
	conn_send(&cl->c[0], K_OPEN, 30 * NS);
}

/*
 * POST Engine.IO packets on the client's second connection. A poller
 * posts only its join and its pongs, so it closes that connection after
 * each: 10,000 pollers then cost the server 10,000 descriptors, not 20,000.
 */
static void
req_sio_post(struct client *cl, int kind, const char *body)
{
	req_start(&cl->c[1],
	    "POST /socket.io/?EIO=4&transport=polling&sid=%s"
	    " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain;"
	    "charset=UTF-8\r\n%sContent-Length: %zu\r\n\r\n%s",
	    cl->sid, cl->role == R_POLLER ? "Connection: close\r\n" : "",
	    strlen(body), body);
	conn_send(&cl->c[1], kind, 30 * NS);
}

/* Answer the pings owed ("2" asks, "3" answers). */
static void
req_pong(struct client *cl)
{
	char body[32] = "3";
	int  i;

	if (cl->pongs == 0 || cl->c[1].kind != K_NONE)
		return;
	for (i = 1; i < cl->pongs && i < 8; i++)
		strcat(body,
		    "\x1e"
		    "3");
	cl->pongs = 0;
	req_sio_post(cl, K_PONG, body);
}

static void
poll_chatd(struct conn *c, struct client *cl)
{
	req_start(c,
	    "GET /api/poll?since=%lld&timeout=%d HTTP/1.1\r\n"
	    "Host: 127.0.0.1\r\nX-Chat-Session: %s\r\n\r\n",
	    cl->cursor, O.poll_timeout, cl->session);
}

static void
poll_nchan(struct conn *c, struct client *cl)
{
	char cond[200] = "";

	if (cl->lastmod[0] != '\0')
		snprintf(cond, sizeof cond,
		    "If-Modified-Since: %s\r\n"
		    "If-None-Match: %s\r\n",
		    cl->lastmod, cl->etag);
	req_start(c, "GET /sub/%s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\n",
	    O.path, cond);
}

static void
poll_issue(struct client *cl)
{
	struct conn *c = &cl->c[0];

	if (CHATD_API)
		poll_chatd(c, cl);
	else if (O.target == T_NCHAN)
		poll_nchan(c, cl);
	else
		req_start(c,
		    "GET /socket.io/?EIO=4&transport=polling&sid=%s"
		    " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
		    cl->sid);
	if (cl->role == R_POLLER && !cl->polling) {
		cl->polling = 1;
		W.npolling++;
	}
	conn_send(c, K_POLL, (int64_t)(O.poll_timeout + 20) * NS);
}

/* Send message seq from sender cl. */
static void
send_issue(struct client *cl, uint64_t seq)
{
	struct conn *c = &cl->c[O.target == T_SOCKETIO ? 1 : 0];
	int64_t	     now = now_ns();
	char	     text[160];
	int	     n;

	cl->seq = seq;
	cl->seq_ns = now;
	cl->idle = 0;
	if (CHATD_API) {
		n = snprintf(text, sizeof text,
		    "text=b%%3A%" PRIu64 "%%3A%" PRId64, seq, now);
		req_start(c,
		    "POST /api/send HTTP/1.1\r\nHost: 127.0.0.1\r\n"
		    "X-Chat-Session: %s\r\nX-CSRF-Token: %s\r\nContent-Type: "
		    "application/x-www-form-urlencoded\r\nContent-Length: %d"
		    "\r\n\r\n%s",
		    cl->session, cl->csrf, n, text);
	} else if (O.target == T_NCHAN) {
		n = snprintf(
		    text, sizeof text, "b:%" PRIu64 ":%" PRId64, seq, now);
		req_start(c,
		    "POST /pub/%s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
		    "Content-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s",
		    O.path, n, text);
	} else if (O.target == T_SOCKETIO) {
		snprintf(text, sizeof text,
		    "%s42[\"m\",\"b:%" PRIu64 ":%" PRId64 "\"]",
		    cl->pongs ? "3\x1e" : "", seq, now);
		cl->pongs = 0;
		req_sio_post(cl, K_SEND, text);
		return;
	} else
		req_start(
		    c, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", O.path);
	conn_send(c, K_SEND, 30 * NS);
}

/* --- client steps --- */

static void
client_setup(struct client *cl)
{
	cl->stage = G_SETUP;
	if (CHATD_API)
		req_login(cl);
	else if (O.target == T_SOCKETIO && cl->sid[0] == '\0')
		req_open(cl);
	else if (O.target == T_SOCKETIO)
		req_sio_post(cl, K_JOIN, "40");
	else
		conn_connect(&cl->c[0]);
}

/* The client whose session cl shares (--share), or NULL: cl logs in. */
static struct client *
leader_of(struct client *cl)
{
	int k = (int)(cl - W.cl);

	if (O.target != T_CHATD || cl->role != R_POLLER || k % O.share == 0)
		return NULL;
	return &W.cl[k - k % O.share];
}

/* cl takes its leader's session, or dies with it; 0 while it waits. */
static int
follow(struct client *cl, const struct client *l)
{
	if (l->stage == G_READY) {
		memcpy(cl->session, l->session, sizeof cl->session);
		memcpy(cl->csrf, l->csrf, sizeof cl->csrf);
		cl->cursor = l->cursor;
		cl->stage = G_READY;
	} else if (l->stage == G_DEAD) {
		cl->stage = G_DEAD;
		W.st.err_setup++;
	} else
		return 0;
	W.setup_done++;
	return 1;
}

/* Followers in set-up after their leader is done; 'L' once all are. */
static void
setup_done_check(struct client *l)
{
	int i;

	for (i = (int)(l - W.cl) + 1;
	     l->role == R_POLLER && i < W.ncl && leader_of(&W.cl[i]) == l; i++)
		if (W.cl[i].stage == G_SETUP)
			follow(&W.cl[i], l);
	if (W.setup_done == W.ncl && W.phase == P_SETUP) {
		W.phase = P_WAIT_GO;
		msg_send(W.res_out, 'L', 0);
	}
}

static void
setup_pump(void)
{
	struct client *cl, *l;

	while (W.setup_active < O.window && W.setup_next < W.ncl) {
		cl = &W.cl[W.setup_next++];
		if ((l = leader_of(cl)) != NULL) {
			cl->stage = G_SETUP;
			if (follow(cl, l))
				setup_done_check(l);
			continue;
		}
		W.setup_active++;
		client_setup(cl);
	}
}

/* One client is set up (ok) or has given up: start the next. */
static void
setup_finish(struct client *cl, int ok)
{
	cl->stage = ok ? G_READY : G_DEAD;
	cl->tries = 0;
	if (!ok)
		W.st.err_setup++;
	W.setup_active--;
	W.setup_done++;
	setup_done_check(cl);
	setup_pump();
}

/* After "go": chatd pollers find the newest event, then poll. */
static void
client_start(struct client *cl)
{
	cl->stage = G_STARTING;
	if (CHATD_API && cl->role == R_POLLER)
		req_history(cl);
	else
		start_finish(cl);
}

static void
start_pump(void)
{
	struct client *cl;

	while (W.start_active < O.window && W.start_next < W.ncl) {
		cl = &W.cl[W.start_next++];
		if (cl->stage != G_READY)
			continue;
		W.start_active++;
		client_start(cl);
	}
}

static void
start_finish(struct client *cl)
{
	cl->stage = G_RUN;
	cl->tries = 0;
	W.start_active--;
	if (cl->role == R_POLLER || O.target == T_SOCKETIO)
		poll_issue(cl);
	if (cl->role == R_SENDER)
		sender_idle(cl);
	start_pump();
}

/* A request of cl failed; retry it later, or count it. */
static void
client_error(struct client *cl, int kind)
{
	switch (kind) {
	case K_SEND:
		W.st.sends_err++;
		sender_idle(cl);
		return;
	case K_PONG:
		cl->pongs++;
		if (cl->role == R_SENDER && !cl->idle)
			sender_idle(cl);
		break;
	case K_POLL:
		if (cl->polling) {
			cl->polling = 0;
			W.npolling--;
		}
		break;
	default:
		if (++cl->tries > MAX_TRIES) {
			if (cl->stage == G_SETUP)
				setup_finish(cl, 0);
			else {
				cl->stage = G_DEAD;
				W.start_active--;
				start_pump();
			}
			return;
		}
	}
	cl->retry_at = now_ns() + RETRY_NS;
}

/* What a due retry does, by the stage the client is in. */
static void
client_retry(struct client *cl)
{
	cl->retry_at = 0;
	if (cl->stage == G_SETUP)
		client_setup(cl);
	else if (cl->stage == G_STARTING)
		client_start(cl);
	else if (cl->stage == G_RUN && cl->c[0].kind == K_NONE &&
	    (cl->role == R_POLLER || O.target == T_SOCKETIO))
		poll_issue(cl);
	if (cl->stage == G_RUN && O.target == T_SOCKETIO)
		req_pong(cl);
}

/* --- responses --- */

static int
on_login(struct client *cl, struct resp *r)
{
	if (json_str(r->body, r->blen, "session", cl->session,
		sizeof cl->session) == -1 ||
	    json_str(r->body, r->blen, "csrf", cl->csrf, sizeof cl->csrf) == -1)
		return -1;
	cl->cursor = json_int(r->body, r->blen, "cursor");
	return cl->cursor < 0 ? -1 : 0;
}

static int
on_open(struct client *cl, struct resp *r)
{
	if (r->blen < 2 || r->body[0] != '0')
		return -1;
	return json_str(
	    r->body + 1, r->blen - 1, "sid", cl->sid, sizeof cl->sid);
}

/* Engine.IO packets, separated by 0x1e: pings, messages, a close. */
static void
on_sio_packets(struct client *cl, struct resp *r, int64_t now)
{
	char *p = r->body, *end = r->body + r->blen, *e;

	for (; p < end; p = e + 1) {
		if ((e = memchr(p, 0x1e, end - p)) == NULL)
			e = end;
		if (*p == '2')
			cl->pongs++;
		else if (*p == '1')
			W.st.err[E_STATUS]++;
		else if (*p == '4' && cl->role == R_POLLER)
			scan_seqs(cl, p, e - p, now);
	}
}

static int
poll_status_ok(int status)
{
	if (O.target == T_NCHAN)
		return status == 200 || status == 304 || status == 408;
	return status == 200;
}

static void
on_poll(struct client *cl, struct resp *r)
{
	int64_t now = now_ns();

	if (cl->polling) {
		cl->polling = 0;
		W.npolling--;
	}
	if (cl->role == R_POLLER) {
		W.last_poll_resp = now;
		W.st.polls++;
	}
	if (!poll_status_ok(r->status)) {
		W.st.err[E_STATUS]++;
		cl->retry_at = now + RETRY_NS;
		return;
	}
	if (CHATD_API) {
		cl->cursor = json_int(r->body, r->blen, "cursor");
		scan_seqs(cl, r->body, r->blen, now);
	} else if (O.target == T_NCHAN) {
		if (r->lastmod[0] != '\0') {
			memcpy(cl->lastmod, r->lastmod, sizeof cl->lastmod);
			memcpy(cl->etag, r->etag, sizeof cl->etag);
		}
		if (r->status == 200)
			scan_seqs(cl, r->body, r->blen, now);
	} else {
		on_sio_packets(cl, r, now);
		req_pong(cl);
	}
	if (cl->cursor < 0) {
		W.st.err[E_PARSE]++;
		cl->stage = G_DEAD;
		return;
	}
	poll_issue(cl);
}

static void
on_send(struct client *cl, struct resp *r)
{
	int64_t now = now_ns();

	if (r->status / 100 != 2) {
		W.st.sends_err++;
		W.st.err[E_STATUS]++;
	} else {
		W.st.sends_ok++;
		hist_add(&W.st.slat, now - cl->seq_ns);
		W.st.send_last_ns = now;
		if (cl->seq < O.maxseq)
			W.acked[cl->seq / 8] |= 1 << (cl->seq % 8);
	}
	sender_idle(cl);
}

/* A set-up or start step answered: next step, or retry on a bad answer. */
static void
on_step(struct client *cl, int kind, struct resp *r)
{
	int ok = r == NULL || r->status == 200;

	if (ok && kind == K_LOGIN)
		ok = on_login(cl, r) == 0;
	else if (ok && kind == K_OPEN)
		ok = on_open(cl, r) == 0;
	if (!ok) {
		W.st.err[r != NULL && r->status != 200 ? E_STATUS : E_PARSE]++;
		client_error(cl, kind);
	} else if (kind == K_OPEN)
		client_setup(cl);
	else if (kind == K_HISTORY) {
		long long id = json_max_id(r->body, r->blen);

		if (id > cl->cursor)
			cl->cursor = id;
		start_finish(cl);
	} else
		setup_finish(cl, 1);
}

static void
on_response(struct conn *c, int kind, struct resp *r)
{
	struct client *cl = c->cl;

	switch (kind) {
	case K_POLL: on_poll(cl, r); break;
	case K_SEND: on_send(cl, r); break;
	case K_PONG:
		if (r->status != 200)
			W.st.err[E_STATUS]++;
		if (cl->role == R_SENDER && !cl->idle)
			sender_idle(cl);
		else
			req_pong(cl);
		break;
	default: on_step(cl, kind, r);
	}
}

/* --- senders --- */

static int64_t
due_ns(uint64_t i)
{
	if (O.scen == S_FANOUT)
		return W.t0 + (int64_t)(i * O.interval * NS);
	if (O.scen == S_RATE)
		return W.t0 + (int64_t)(i * (NS / O.rate));
	return W.t0;
}

static void
sender_idle(struct client *cl)
{
	if (!cl->idle) {
		cl->idle = 1;
		W.idle[W.nidle++] = cl;
	}
	if (O.target == T_SOCKETIO && cl->pongs)
		req_pong(cl);
}

/* Send what is due on idle senders; say 'D' once all is sent. */
static void
sender_pump(int64_t now)
{
	struct client *cl;

	if (W.phase != P_RUN || W.nsenders == 0 || W.said_done)
		return;
	while (W.nidle > 0 && W.next_seq < W.total &&
	    due_ns(W.next_seq) <= now && (O.scen != S_SENDS || now < W.t_end)) {
		cl = W.idle[--W.nidle];
		if (cl->c[O.target == T_SOCKETIO ? 1 : 0].kind != K_NONE) {
			cl->idle = 0; /* a pong is under way */
			continue;
		}
		send_issue(cl, W.next_seq++);
	}
	if (W.nidle == W.nsenders &&
	    (W.next_seq >= W.total || (O.scen == S_SENDS && now >= W.t_end))) {
		uint64_t i, acked = 0;

		for (i = 0; i < O.maxseq; i++)
			acked += (W.acked[i / 8] >> (i % 8)) & 1;
		W.said_done = 1;
		msg_send(
		    W.res_out, 'D', O.scen == S_SENDS ? W.st.sends_ok : acked);
	}
}

/* --- worker: phases, timers, results --- */

static void
worker_results(void)
{
	int i;

	for (i = 0; i < W.ncl; i++) {
		if (W.cl[i].role != R_POLLER)
			continue;
		if (W.cl[i].stage != G_DEAD)
			W.st.alive++;
	}
	msg_send(W.res_out, 'R', 0);
	write_all(W.res_out, &W.st, sizeof W.st);
	write_all(W.res_out, W.counts, O.maxseq * sizeof *W.counts);
	write_all(W.res_out, W.acked, (O.maxseq + 7) / 8);
	exit(0);
}

/* Every poller has all acknowledged messages, or time is up. */
static void
drain_check(int64_t now)
{
	int i;

	if (now < W.drain_until) {
		for (i = 0; i < W.ncl; i++)
			if (W.cl[i].role == R_POLLER &&
			    W.cl[i].stage != G_DEAD &&
			    W.cl[i].nseen < W.drain_acked)
				return;
	}
	worker_results();
}

/* Everyone alive has a poll waiting and nothing has come for 1 s. */
static void
park_check(int64_t now)
{
	int i, alive = 0;

	if (W.said_parked || W.start_next < W.ncl || W.start_active > 0)
		return;
	for (i = 0; i < W.ncl; i++)
		if (W.cl[i].role == R_POLLER && W.cl[i].stage == G_RUN)
			alive++;
	if (W.npolling < alive || now - W.last_poll_resp < NS)
		return;
	W.said_parked = 1;
	msg_send(W.res_out, 'P', W.npolling);
}

static void
tick(int64_t now)
{
	struct client *cl;
	int	       i, j;

	for (i = 0; i < W.ncl; i++) {
		cl = &W.cl[i];
		for (j = 0; j < 2; j++)
			if (cl->c[j].kind != K_NONE && cl->c[j].deadline < now)
				conn_fail(&cl->c[j], E_TIMEOUT);
		if (cl->retry_at != 0 && cl->retry_at <= now)
			client_retry(cl);
	}
	if (W.phase == P_PARK)
		park_check(now);
	if (W.phase == P_DRAIN)
		drain_check(now);
	if (now > W.deadline) {
		fprintf(stderr, "loadgen: worker %d ran out of time\n", W.id);
		worker_results();
	}
}

static void
cmd_read(void)
{
	uint64_t arg;
	char	 type;

	if (msg_recv(W.cmd_in, &type, &arg) == -1)
		exit(1); /* the parent is gone */
	if (type == 'G') {
		W.phase = P_PARK;
		W.last_poll_resp = now_ns();
		start_pump();
	} else if (type == 'S') {
		W.phase = P_RUN;
		W.t0 = (int64_t)arg;
		W.t_end = W.t0 + (int64_t)(O.duration * NS);
		W.st.parked = W.npolling;
	} else if (type == 'E') {
		W.st.parked =
		    O.scen == S_PARK ? (uint64_t)W.npolling : W.st.parked;
		W.phase = P_DRAIN;
		W.drain_acked = arg;
		W.drain_until = now_ns() + (int64_t)(O.drain * NS);
	}
}

static int
epoll_timeout(int64_t now)
{
	int64_t t = W.next_tick;

	if (W.phase == P_RUN && !W.said_done && W.nidle > 0 &&
	    W.next_seq < W.total && (O.scen != S_SENDS || now < W.t_end) &&
	    due_ns(W.next_seq) < t)
		t = due_ns(W.next_seq);
	return t <= now ? 0 : (int)((t - now + MS - 1) / MS);
}

static void
worker_loop(void)
{
	struct epoll_event ev[512];
	int64_t		   now;
	int		   i, n;

	for (;;) {
		now = now_ns();
		n = epoll_wait(W.efd, ev, 512, epoll_timeout(now));
		if (n == -1 && errno != EINTR)
			die("epoll_wait");
		for (i = 0; i < n; i++) {
			if (ev[i].data.ptr == &cmd_marker)
				cmd_read();
			else
				conn_event(ev[i].data.ptr, ev[i].events);
		}
		now = now_ns();
		sender_pump(now);
		if (now >= W.next_tick) {
			tick(now);
			W.next_tick = now + TICK_NS;
		}
	}
}

/* Which clients worker w drives: its share of pollers, and senders. */
static void
worker_clients(int w, int nproc)
{
	int i, k = 0, np = 0, ns = 0;

	for (i = w; i < O.pollers; i += nproc)
		np++;
	if (O.scen == S_SENDS)
		for (i = w; i < O.senders; i += nproc)
			ns++;
	else if (O.scen != S_PARK && w == 0)
		ns = O.senders;
	W.cl = xcalloc(np + ns, sizeof *W.cl);
	W.idle = xcalloc(np + ns, sizeof *W.idle);
	for (i = w; i < O.pollers; i += nproc, k++) {
		W.cl[k].id = i;
		W.cl[k].role = R_POLLER;
		W.cl[k].seen = xcalloc((O.maxseq + 7) / 8, 1);
	}
	for (i = 0; i < ns; i++, k++) {
		W.cl[k].id = O.pollers + w * 100000 + i;
		W.cl[k].role = R_SENDER;
	}
	W.ncl = np + ns;
	W.nsenders = ns;
}

static void
worker_main(int w, int nproc, int cmd_in, int res_out)
{
	struct epoll_event ev;
	int		   i, j;

	W.id = w;
	W.cmd_in = cmd_in;
	W.res_out = res_out;
	worker_clients(w, nproc);
	for (i = 0; i < W.ncl; i++)
		for (j = 0; j < 2; j++) {
			W.cl[i].c[j].fd = -1;
			W.cl[i].c[j].cl = &W.cl[i];
		}
	W.counts = xcalloc(O.maxseq, sizeof *W.counts);
	W.acked = xcalloc((O.maxseq + 7) / 8, 1);
	W.total = O.scen == S_FANOUT ? (uint64_t)O.count :
	    O.scen == S_RATE	     ? (uint64_t)(O.rate * O.duration) :
				       UINT64_MAX;
	if ((W.efd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		die("epoll_create1");
	ev.events = EPOLLIN;
	ev.data.ptr = &cmd_marker;
	if (epoll_ctl(W.efd, EPOLL_CTL_ADD, cmd_in, &ev) == -1)
		die("epoll_ctl");
	W.deadline = now_ns() +
	    (int64_t)((2 * O.setup_timeout + O.hold + O.quiet + O.duration +
			  O.count * O.interval + O.drain + 120) *
		NS);
	W.phase = P_SETUP;
	setup_pump();
	if (W.ncl == 0) {
		W.phase = P_WAIT_GO;
		msg_send(res_out, 'L', 0);
	}
	worker_loop();
}

/* --- parent: fork, phase, merge, print --- */

struct kid {
	pid_t pid;
	int   cmd, res;
};

static struct kid *kids;
static int	   nkids;

static void
kids_kill(void)
{
	int i;

	for (i = 0; i < nkids; i++)
		if (kids[i].pid > 0)
			kill(kids[i].pid, SIGKILL);
}

static void
kids_start(void)
{
	int i, cp[2], rp[2];

	kids = xcalloc(nkids, sizeof *kids);
	for (i = 0; i < nkids; i++) {
		if (pipe(cp) == -1 || pipe(rp) == -1)
			die("pipe");
		if ((kids[i].pid = fork()) == -1)
			die("fork");
		if (kids[i].pid == 0) {
			close(cp[1]);
			close(rp[0]);
			worker_main(i, nkids, cp[0], rp[1]);
		}
		close(cp[0]);
		close(rp[1]);
		kids[i].cmd = cp[1];
		kids[i].res = rp[0];
	}
}

static void
kids_tell(char type, uint64_t arg)
{
	int i;

	for (i = 0; i < nkids; i++)
		msg_send(kids[i].cmd, type, arg);
}

/*
 * Wait until every worker in mask has said type, for at most secs. The
 * numbers they sent are summed into *sum. 0 when all did, -1 otherwise.
 */
static int
kids_wait(char type, int *mask, double secs, uint64_t *sum)
{
	struct pollfd pfd[64];
	int64_t	      end = now_ns() + (int64_t)(secs * NS), left;
	int	      i, n, want = 0;
	uint64_t      arg;
	char	      t;

	for (i = 0; i < nkids; i++)
		want += mask[i];
	while (want > 0 && (left = end - now_ns()) > 0) {
		for (i = 0; i < nkids; i++) {
			pfd[i].fd = mask[i] ? kids[i].res : -1;
			pfd[i].events = POLLIN;
		}
		if ((n = poll(pfd, nkids, (int)(left / MS) + 1)) <= 0)
			continue;
		for (i = 0; i < nkids; i++) {
			if (!(pfd[i].revents & (POLLIN | POLLHUP)))
				continue;
			if (msg_recv(kids[i].res, &t, &arg) == -1)
				return -1;
			if (t == type) {
				mask[i] = 0;
				want--;
				*sum += arg;
			}
		}
	}
	return want == 0 ? 0 : -1;
}

static void
mask_all(int *mask, int v)
{
	int i;

	for (i = 0; i < nkids; i++)
		mask[i] = v;
}

struct total {
	struct stats st;
	uint32_t    *counts;
	uint8_t	    *acked;
};

static void
stats_merge(struct stats *to, const struct stats *s)
{
	int i;

	to->deliveries += s->deliveries;
	to->dup += s->dup;
	to->stray += s->stray;
	to->polls += s->polls;
	to->sends_ok += s->sends_ok;
	to->sends_err += s->sends_err;
	for (i = 0; i < 5; i++)
		to->err[i] += s->err[i];
	to->err_setup += s->err_setup;
	to->parked += s->parked;
	to->alive += s->alive;
	if (s->last_ns > to->last_ns)
		to->last_ns = s->last_ns;
	if (s->send_last_ns > to->send_last_ns)
		to->send_last_ns = s->send_last_ns;
	hist_merge(&to->lat, &s->lat);
	hist_merge(&to->slat, &s->slat);
}

/* Read every worker's 'R' and results into t. */
static int
kids_collect(struct total *t, double secs)
{
	struct stats *s = xcalloc(1, sizeof *s);
	uint32_t     *counts = xcalloc(O.maxseq, sizeof *counts);
	uint8_t	     *acked = xcalloc((O.maxseq + 7) / 8, 1);
	int	      mask[64], i;
	uint32_t      k;
	uint64_t      sum = 0;

	for (i = 0; i < nkids; i++) {
		mask_all(mask, 0);
		mask[i] = 1;
		if (kids_wait('R', mask, secs, &sum) == -1 ||
		    read_all(kids[i].res, s, sizeof *s) == -1 ||
		    read_all(kids[i].res, counts, O.maxseq * 4) == -1 ||
		    read_all(kids[i].res, acked, (O.maxseq + 7) / 8) == -1)
			return -1;
		stats_merge(&t->st, s);
		for (k = 0; k < O.maxseq; k++)
			t->counts[k] += counts[k];
		for (k = 0; k < (O.maxseq + 7) / 8; k++)
			t->acked[k] |= acked[k];
	}
	free(s);
	free(counts);
	free(acked);
	return 0;
}

static uint64_t
errors_of(const struct stats *s)
{
	uint64_t e = s->err_setup;
	int	 i;

	for (i = 0; i < 5; i++)
		e += s->err[i];
	return e;
}

/* Acknowledged messages times live pollers, minus what arrived. */
static uint64_t
lost_of(const struct total *t, uint64_t *acked_n)
{
	uint64_t lost = 0;
	uint32_t k;

	*acked_n = 0;
	for (k = 0; k < O.maxseq; k++) {
		if (!((t->acked[k / 8] >> (k % 8)) & 1))
			continue;
		(*acked_n)++;
		if (t->counts[k] < t->st.alive)
			lost += t->st.alive - t->counts[k];
	}
	return lost;
}

static void
print_result(const struct total *t, int64_t t0, const char *note)
{
	const struct stats *s = &t->st;
	uint64_t	    acked, lost = lost_of(t, &acked);
	double dsecs = s->last_ns > t0 ? (s->last_ns - t0) / 1e9 : 0;
	double ssecs = O.scen == S_SENDS ? O.duration :
	    s->send_last_ns > t0	 ? (s->send_last_ns - t0) / 1e9 :
					   0;

	printf("RESULT target=%s scenario=%s pollers=%d senders=%d "
	       "parked=%" PRIu64 " messages=%" PRIu64 " deliveries=%" PRIu64
	       " deliveries_per_s=%.0f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f "
	       "lost=%" PRIu64 " dup=%" PRIu64 " stray=%" PRIu64
	       " sends=%" PRIu64 " sends_per_s=%.0f send_p50_ms=%.2f "
	       "send_p99_ms=%.2f errors=%" PRIu64 " err_connect=%" PRIu64
	       " err_status=%" PRIu64 " err_timeout=%" PRIu64
	       " err_closed=%" PRIu64 " err_parse=%" PRIu64
	       " err_setup=%" PRIu64 " send_errors=%" PRIu64 " polls=%" PRIu64
	       " procs=%d%s%s\n",
	    target_names[O.target], scen_names[O.scen], O.pollers,
	    O.scen == S_PARK ? 0 : O.senders, s->parked, acked, s->deliveries,
	    dsecs > 0 ? s->deliveries / dsecs : 0, hist_ms(&s->lat, 0.5),
	    hist_ms(&s->lat, 0.99), s->lat.max_us / 1000.0, lost, s->dup,
	    s->stray, s->sends_ok, ssecs > 0 ? s->sends_ok / ssecs : 0,
	    hist_ms(&s->slat, 0.5), hist_ms(&s->slat, 0.99), errors_of(s),
	    s->err[E_CONNECT], s->err[E_STATUS], s->err[E_TIMEOUT],
	    s->err[E_CLOSED], s->err[E_PARSE], s->err_setup, s->sends_err,
	    s->polls, nkids, note[0] ? " note=" : "", note);
	printf("%s %s: %d pollers (%" PRIu64 " parked), %" PRIu64
	       " messages, %" PRIu64 " deliveries; latency p50 %.2f ms, p99 "
	       "%.2f ms, max %.2f ms; lost %" PRIu64 ", dup %" PRIu64
	       "; %" PRIu64 " sends (%.0f/s); %" PRIu64 " errors\n",
	    target_names[O.target], scen_names[O.scen], O.pollers, s->parked,
	    acked, s->deliveries, hist_ms(&s->lat, 0.5), hist_ms(&s->lat, 0.99),
	    s->lat.max_us / 1000.0, lost, s->dup, s->sends_ok,
	    ssecs > 0 ? s->sends_ok / ssecs : 0, errors_of(s));
	fflush(stdout);
}

/* Sleep secs, but notice a worker that dies. */
static int
parent_hold(double secs)
{
	struct pollfd pfd[64];
	int64_t	      end = now_ns() + (int64_t)(secs * NS), left;
	int	      i;

	while ((left = end - now_ns()) > 0) {
		for (i = 0; i < nkids; i++) {
			pfd[i].fd = kids[i].res;
			pfd[i].events = POLLIN;
		}
		if (poll(pfd, nkids, (int)(left / MS) + 1) > 0)
			for (i = 0; i < nkids; i++)
				if (pfd[i].revents & (POLLHUP | POLLERR))
					return -1;
	}
	return 0;
}

/* The run phase: hold (park) or wait for the senders to finish. */
static uint64_t
parent_run(int64_t t0, char *note, size_t size)
{
	int	 mask[64], i;
	uint64_t sum = 0;
	double	 secs;

	if (O.scen == S_PARK) {
		if (parent_hold(O.hold) == -1)
			snprintf(note, size, "worker_died");
		return 0;
	}
	mask_all(mask, 0);
	for (i = 0; i < nkids; i++)
		mask[i] = O.scen == S_SENDS ? i < O.senders : i == 0;
	secs = (t0 - now_ns()) / 1e9 + O.duration + O.count * O.interval + 60;
	if (kids_wait('D', mask, secs, &sum) == -1)
		snprintf(note, size, "senders_unfinished");
	return sum;
}

static int
parent_main(void)
{
	struct total t;
	int	     mask[64];
	uint64_t     sum = 0, acked;
	int64_t	     t0;
	char	     note[64] = "";

	memset(&t, 0, sizeof t);
	t.counts = xcalloc(O.maxseq, sizeof *t.counts);
	t.acked = xcalloc((O.maxseq + 7) / 8, 1);
	kids_start();
	mask_all(mask, 1);
	if (kids_wait('L', mask, O.setup_timeout, &sum) == -1)
		snprintf(note, sizeof note, "setup_incomplete");
	kids_tell('G', 0);
	mask_all(mask, 1);
	sum = 0;
	if (kids_wait('P', mask, O.setup_timeout, &sum) == -1 && !note[0])
		snprintf(note, sizeof note, "not_all_parked");
	printf("PARKED pollers=%" PRIu64 " of %d\n", sum, O.pollers);
	fflush(stdout);
	if (O.scen != S_PARK && O.quiet > 0 && parent_hold(O.quiet) == -1 &&
	    !note[0])
		snprintf(note, sizeof note, "worker_died");
	/*
	 * Half a second before the first send: whoever measures the servers
	 * from "PARKED" on (bench/run) reads their CPU before it starts.
	 */
	t0 = now_ns() + 500 * MS;
	kids_tell('S', (uint64_t)t0);
	acked = parent_run(t0, note, sizeof note);
	kids_tell('E', acked);
	if (kids_collect(&t, O.drain + 60) == -1) {
		fprintf(stderr, "loadgen: a worker gave no results\n");
		kids_kill();
		return 1;
	}
	print_result(&t, t0, note);
	while (wait(NULL) > 0)
		;
	return errors_of(&t.st) > 0 || note[0] ? 3 : 0;
}

/* --- options --- */

static void
usage(void)
{
	fprintf(stderr,
	    "usage: loadgen --target chatd|nchan|socketio|ceiling|floor\n"
	    "    --scenario park|fanout|rate|sends --port N\n"
	    "    [--pollers N] [--senders N] [--count K] [--interval S]\n"
	    "    [--rate R] [--duration S] [--hold S] [--poll-timeout S]\n"
	    "    [--procs N] [--path P] [--window N] [--drain S]\n"
	    "    [--setup-timeout S] [--sources A[-B]] [--quiet S] [--share K]\n");
	exit(2);
}

static int
name_index(const char *s, const char **names, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	usage();
	return -1;
}

/*
 * "A" or "A-B", IPv4 addresses with A <= B and at most 65,536 of them:
 * the first (host byte order) and the count. 0, or -1 if s is none.
 */
static int
parse_sources(const char *s, uint32_t *first, int *n)
{
	struct in_addr a, b;
	const char    *dash = strchr(s, '-');
	char	       buf[INET_ADDRSTRLEN];
	size_t	       len = dash != NULL ? (size_t)(dash - s) : strlen(s);

	if (len == 0 || len >= sizeof buf)
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (inet_pton(AF_INET, buf, &a) != 1)
		return -1;
	b = a;
	if (dash != NULL && inet_pton(AF_INET, dash + 1, &b) != 1)
		return -1;
	/* Unsigned: a B below A is a difference far above 65,536 too. */
	if (ntohl(b.s_addr) - ntohl(a.s_addr) >= 65536)
		return -1;
	*first = ntohl(a.s_addr);
	*n = (int)(ntohl(b.s_addr) - ntohl(a.s_addr)) + 1;
	return 0;
}

static void
parse_opts(int argc, char **argv)
{
	static struct option lo[] = { { "target", 1, 0, 't' },
		{ "scenario", 1, 0, 's' }, { "port", 1, 0, 'p' },
		{ "pollers", 1, 0, 'n' }, { "senders", 1, 0, 'm' },
		{ "count", 1, 0, 'k' }, { "interval", 1, 0, 'i' },
		{ "rate", 1, 0, 'r' }, { "duration", 1, 0, 'd' },
		{ "hold", 1, 0, 'H' }, { "poll-timeout", 1, 0, 'T' },
		{ "procs", 1, 0, 'P' }, { "path", 1, 0, 'u' },
		{ "window", 1, 0, 'w' }, { "drain", 1, 0, 'D' },
		{ "setup-timeout", 1, 0, 'S' }, { "sources", 1, 0, 'a' },
		{ "quiet", 1, 0, 'q' }, { "share", 1, 0, 'K' },
		{ 0, 0, 0, 0 } };
	int		     ch;

	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 't': O.target = name_index(optarg, target_names, 5); break;
		case 's': O.scen = name_index(optarg, scen_names, 4); break;
		case 'p': O.port = atoi(optarg); break;
		case 'n': O.pollers = atoi(optarg); break;
		case 'm': O.senders = atoi(optarg); break;
		case 'k': O.count = atoi(optarg); break;
		case 'i': O.interval = atof(optarg); break;
		case 'r': O.rate = atof(optarg); break;
		case 'd': O.duration = atof(optarg); break;
		case 'H': O.hold = atof(optarg); break;
		case 'T': O.poll_timeout = atoi(optarg); break;
		case 'P': O.procs = atoi(optarg); break;
		case 'u': O.path = optarg; break;
		case 'w': O.window = atoi(optarg); break;
		case 'D': O.drain = atof(optarg); break;
		case 'S': O.setup_timeout = atof(optarg); break;
		case 'a':
			if (parse_sources(optarg, &O.src_first, &O.src_n) == -1)
				usage();
			break;
		case 'q': O.quiet = atof(optarg); break;
		case 'K': O.share = atoi(optarg); break;
		default: usage();
		}
	}
	if (O.port <= 0 || O.port > 65535 || O.pollers < 0 || O.window < 1 ||
	    O.share < 1)
		usage();
}

/* Defaults that depend on the scenario, and the number of workers. */
static void
settle_opts(void)
{
	long fds;
	int  need;

	if (O.senders < 0)
		O.senders = O.scen == S_FANOUT ? 1 :
		    O.scen == S_RATE	       ? 8 :
		    O.scen == S_SENDS	       ? 50 :
						 0;
	if (O.scen == S_SENDS || O.target == T_CEILING)
		O.pollers = O.scen == S_SENDS ? 0 : O.pollers;
	if (O.path == NULL)
		O.path = O.target == T_CEILING ? "/" : "bench";
	if (O.scen == S_FANOUT)
		O.maxseq = O.count;
	else if (O.scen == S_RATE)
		O.maxseq = (uint32_t)(O.rate * O.duration) + 1;
	else
		O.maxseq = 1;
	O.drain = O.scen == S_PARK ? 0 : O.drain;
	fds = (long)(O.pollers + O.senders) * (O.target == T_SOCKETIO ? 2 : 1);
	need = (int)((fds + FDS_PER_PROC - 1) / FDS_PER_PROC);
	nkids = O.procs > need ? O.procs : need > 0 ? need : 1;
	if (nkids > 64)
		nkids = 64;
}

static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int
main(int argc, char **argv)
{
	parse_opts(argc, argv);
	settle_opts();
	raise_nofile();
	signal(SIGPIPE, SIG_IGN);
	parent_pid = getpid();
	setvbuf(stdout, NULL, _IOLBF, 0);
	return parent_main();
}
