/*
 * conn_read: a conn's next request, watched until it is whole (see conn.h).
 *
 * libfcgi reads a request with blocking reads, and a chatd process has one
 * thread: a peer on the socket that sent half a request, or nothing, would
 * stop every user for as long as libfcgi waited. So libfcgi is given a
 * connection only once the whole request (fcgi_scan.h) is in hand, and its
 * reads never wait.
 *
 * The usual case costs one system call: nginx writes a request at once,
 * and a look at the socket's buffer (recv with MSG_PEEK) finds it whole;
 * libfcgi then reads it from the socket. Otherwise the conn is READING:
 * epoll watches it, with a deadline (READ_DEADLINE_MS), and its bytes are
 * read into memory as they come, without blocking. Once whole, they are
 * written into a memfd and libfcgi reads the request from that: libfcgi
 * stays the one FastCGI reader, and a memfd never makes a read wait.
 * This is also how a request larger than the socket's buffer gets whole
 * (an image upload: nginx writes its megabyte in pieces as chatd reads).
 * Raising SO_RCVBUF would not do it: a unix stream socket queues what the
 * sender's send buffer allows, whatever the receiver's; and a helper
 * thread running libfcgi's blocking reads would be held by a slow peer
 * just as the loop is now, with locking besides.
 *
 * Bounds, for a neighbour on the socket: a body is kept up to body_keep
 * bytes (the largest any route takes), then read and dropped up to
 * body_drain (fcgi.c then answers 413, as for any body past its limit,
 * and closes); at most reading_max conns read at once (a quarter of the
 * descriptors, 16 to 1,024), the oldest closed first when another comes;
 * and they hold at most mem_max bytes together, the oldest copy closed
 * first. A conn still not whole at its deadline is closed. Closes are
 * logged at warn, one line a minute at most for each reason, with the
 * count of the others, so that a flood cannot fill the disk.
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "fcgi_scan.h"
#include "log.h"
#include "xmalloc.h"

#define READ_DEADLINE_MS 5000	 /* for a request to come whole: */
#define READ_DEADLINE_SAID "5 s" /* as log lines say it */
#define READ_TURNS 16		 /* chunks read per event: others wait */
#define RECORD_MAX 65535	 /* content bytes of one FastCGI record */
#define MEM_MIN (64 << 20)	 /* mem_max, at the least */
#define LOG_EVERY_MS 60000	 /* one line about closed conns a minute */

struct conn_rd {
	struct conn	*conn;
	struct fcgi_scan scan;
	struct buf	 in;	      /* the request so far, once copying */
	int		 copying;     /* bytes are read, not looked at */
	int		 dropping;    /* past body_keep: the rest is not kept */
	int64_t		 deadline;    /* loop_now() ms */
	struct conn_rd	*prev, *next; /* oldest first */
};

static conn_next_fn	 next_fn;
static size_t		 body_keep, body_drain, mem_max, mem_held;
static int		 reading, reading_max;
static struct conn_rd	*oldest, *newest;
static struct loop_timer deadline_timer;
static unsigned char	 chunk[256 << 10];

static void on_deadline(struct loop_timer *);

/*
 * fn reads a request once it is whole: from the conn's socket, or from a
 * descriptor holding it, which fn closes. Bodies are kept up to keep bytes
 * and read up to drain.
 */
void
conn_read_init(conn_next_fn fn, size_t keep, size_t drain)
{
	struct rlimit rl;
	rlim_t	      n = 1024;

	next_fn = fn;
	body_drain = drain;
	conn_read_set_keep(keep);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur / 4 < n)
		n = rl.rlim_cur / 4 < 16 ? 16 : rl.rlim_cur / 4;
	reading_max = (int)n;
	loop_timer_init(&deadline_timer, on_deadline);
}

/*
 * The largest body a route takes changed (SIGHUP): keep bodies up to keep
 * bytes from now on, and let the bytes held grow with it.
 */
void
conn_read_set_keep(size_t keep)
{
	body_keep = keep;
	mem_max = 4 * keep > MEM_MIN ? 4 * keep : MEM_MIN;
}

/* Why a conn was closed, and when that was last logged. */
struct why {
	const char *text;
	int64_t	    logged_at; /* loop_now() ms, -1 if never */
	long	    unlogged;  /* closes since, not logged */
};

static struct why why_deadline = {
	"no whole request within " READ_DEADLINE_SAID, -1, 0
};
static struct why why_bad = { "not a FastCGI request chatd reads", -1, 0 };
static struct why why_many = { "too many connections sending at once", -1, 0 };
static struct why why_memory = { "too many bytes held for requests coming in",
	-1, 0 };

/*
 * Close c, which is not sending a request chatd will read, and say why:
 * at most once a minute for each reason, with the count since.
 */
static void
drop(struct conn *c, struct why *w)
{
	int64_t now = loop_now();

	conn_close(c);
	if (w->logged_at >= 0 && now - w->logged_at < LOG_EVERY_MS) {
		w->unlogged++;
		return;
	}
	if (w->unlogged > 0)
		log_warn("closed a FastCGI connection: %s (and %ld more "
			 "since the last such line)",
		    w->text, w->unlogged);
	else
		log_warn("closed a FastCGI connection: %s", w->text);
	w->logged_at = now;
	w->unlogged = 0;
}

/* c is reading no more (whole, or closed): forget its reading state. */
void
conn_read_forget(struct conn *c)
{
	struct conn_rd *rd = c->rd;

	if (rd == NULL)
		return;
	if (rd->prev != NULL)
		rd->prev->next = rd->next;
	else
		oldest = rd->next;
	if (rd->next != NULL)
		rd->next->prev = rd->prev;
	else
		newest = rd->prev;
	mem_held -= rd->in.len;
	reading--;
	buf_free(&rd->in);
	free(rd);
	c->rd = NULL;
	c->state = CONN_NEW;
}

/* Close the conns whose deadline has passed; wait for the next one. */
static void
on_deadline(struct loop_timer *t)
{
	int64_t now = loop_now();

	while (oldest != NULL && oldest->deadline <= now)
		drop(oldest->conn, &why_deadline);
	if (oldest != NULL)
		loop_timer_at(&deadline_timer, oldest->deadline);
}

/* Watch c until its request is whole or its deadline passes. */
static void
start_reading(struct conn *c)
{
	struct conn_rd *rd;

	if (reading >= reading_max)
		drop(oldest->conn, &why_many);
	rd = xcalloc(1, sizeof *rd);
	rd->conn = c;
	fcgi_scan_init(&rd->scan);
	buf_init(&rd->in);
	rd->deadline = loop_now() + READ_DEADLINE_MS;
	rd->prev = newest;
	if (newest != NULL)
		newest->next = rd;
	else
		oldest = rd;
	newest = rd;
	reading++;
	c->rd = rd;
	if (deadline_timer.when < 0)
		loop_timer_at(&deadline_timer, rd->deadline);
	/* An idle conn is registered so already: no system call. */
	loop_io_set(&c->io, EPOLLIN | EPOLLRDHUP);
}

/*
 * Too much memory held by conns still sending: close the oldest that
 * holds some, until under mem_max.
 */
static void
shed_memory(void)
{
	struct conn_rd *rd;

	while (mem_held > mem_max) {
		for (rd = oldest; rd != NULL && rd->in.len == 0; rd = rd->next)
			;
		if (rd == NULL)
			return;
		drop(rd->conn, &why_memory);
	}
}

/* The request copied into c's memory is whole (or cut): hand it over. */
static void
hand_over_copy(struct conn *c)
{
	struct conn_rd *rd = c->rd;
	size_t		off = 0;
	ssize_t		n;
	int		fd, err = 0;

	fd = memfd_create("chatd-request", MFD_CLOEXEC);
	while (fd >= 0 && off < rd->in.len) {
		n = write(fd, rd->in.data + off, rd->in.len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	if (fd < 0 || off < rd->in.len || lseek(fd, 0, SEEK_SET) == -1) {
		err = errno;
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	conn_read_forget(c);
	if (fd < 0) {
		log_warn("a request's copy: %s", strerror(err));
		conn_close(c);
		return;
	}
	next_fn(c, fd);
}

/* Read what c's socket holds into its copy, without blocking. */
static void
read_more(struct conn *c)
{
	struct conn_rd	     *rd = c->rd;
	enum fcgi_scan_result r;
	ssize_t		      n;
	size_t		      used;
	int		      i;

	rd->copying = 1;
	for (i = 0; i < READ_TURNS; i++) {
		n = recv(c->io.fd, chunk, sizeof chunk, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) { /* gone before its request was whole */
			log_debug("fd %d: closed mid-request", c->io.fd);
			conn_close(c);
			return;
		}
		r = fcgi_scan(&rd->scan, chunk, (size_t)n, &used);
		if (r == FCGI_SCAN_BAD) {
			drop(c, &why_bad);
			return;
		}
		if (!rd->dropping) {
			buf_add(&rd->in, chunk, used);
			mem_held += used;
		}
		/*
		 * Past body_drain (a record's length is counted before its
		 * bytes come, hence RECORD_MAX), libfcgi is given what is
		 * kept; past body_keep the rest is read and dropped: fcgi.c
		 * then sees a body longer than its route's limit, cut short.
		 */
		if (r == FCGI_SCAN_WHOLE ||
		    rd->scan.stdin_len > body_drain + RECORD_MAX) {
			hand_over_copy(c);
			return;
		}
		if (rd->scan.stdin_len > body_keep + RECORD_MAX)
			rd->dropping = 1;
		if (mem_held > mem_max) {
			shed_memory();
			if (c->state != CONN_READING)
				return;
		}
	}
}

/*
 * c's next request is coming (a new connection, or an idle one that became
 * readable): hand it to next_fn once whole. The usual case, a request
 * whole in the socket's buffer already, costs one recv(MSG_PEEK).
 */
void
conn_read(struct conn *c)
{
	struct fcgi_scan s;
	ssize_t		 n;
	size_t		 used;

	c->state = CONN_READING;
	if (c->rd != NULL && c->rd->copying) {
		read_more(c);
		return;
	}
	n = recv(c->io.fd, chunk, sizeof chunk, MSG_PEEK | MSG_DONTWAIT);
	if (n > 0) {
		fcgi_scan_init(&s);
		switch (fcgi_scan(&s, chunk, (size_t)n, &used)) {
		case FCGI_SCAN_WHOLE:
			conn_read_forget(c);
			c->state = CONN_NEW;
			next_fn(c, c->io.fd);
			return;
		case FCGI_SCAN_BAD: drop(c, &why_bad); return;
		case FCGI_SCAN_MORE: break;
		}
	} else if (n == 0 ||
	    (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
		conn_close(c); /* gone, or broken, before a request */
		return;
	}
	if (c->rd == NULL)
		start_reading(c);
	if (n > 0)
		read_more(c);
}
