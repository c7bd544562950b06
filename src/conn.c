/*
 * conn: FastCGI answers written without blocking (see conn.h).
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "log.h"
#include "xmalloc.h"

/* FastCGI record types and the version byte (the FastCGI 1.0 spec). */
#define FCGI_VERSION_1 1
#define FCGI_END_REQUEST 3
#define FCGI_STDOUT 6
#define FCGI_REQUEST_COMPLETE 0
#define FCGI_MAX_CONTENT 65535

static struct conn *closed_conns;
static int	    live_conns;
static int	    idle_conns;
static int	    keeping = 1; /* 0 once stopping: close, not idle */

static void conn_on_io(struct loop_io *, uint32_t);

/*
 * A conn for an accepted socket fd carrying FastCGI request request_id
 * (0 until its request is read: conn_read, then conn_reuse).
 */
struct conn *
conn_new(int fd, int request_id)
{
	struct conn *c;

	c = xcalloc(1, sizeof *c);
	c->io.fd = fd;
	c->io.fn = conn_on_io;
	c->request_id = request_id;
	c->state = CONN_NEW;
	c->req.pool = pool_new();
	c->started_ms = loop_now();
	buf_init(&c->out);
	live_conns++;
	return c;
}

/* The conns with a request in hand (not idle between requests). */
int
conn_busy_count(void)
{
	return live_conns - idle_conns;
}

/* Stopping: answered conns are closed, never kept idle. */
void
conn_stop_keeping(void)
{
	keeping = 0;
}

/* c's request, request_id, has been read: make it fresh again. */
void
conn_reuse(struct conn *c, int request_id)
{
	c->state = CONN_NEW;
	c->request_id = request_id;
	c->keep = 0;
	c->req.pool = pool_new();
	c->started_ms = loop_now();
	c->route = NULL;
}

/* The answer is out and nginx keeps the connection: wait for the next. */
static void
conn_idle(struct conn *c)
{
	c->state = CONN_IDLE;
	idle_conns++;
	buf_free(&c->out);
	c->out_off = 0;
	/* A conn that was parked is registered so already: no system call. */
	loop_io_set(&c->io, EPOLLIN | EPOLLRDHUP);
}

static void
record_header(struct buf *out, int type, int request_id, size_t len, size_t pad)
{
	unsigned char h[8];

	h[0] = FCGI_VERSION_1;
	h[1] = (unsigned char)type;
	h[2] = (unsigned char)(request_id >> 8);
	h[3] = (unsigned char)request_id;
	h[4] = (unsigned char)(len >> 8);
	h[5] = (unsigned char)len;
	h[6] = (unsigned char)pad;
	h[7] = 0;
	buf_add(out, h, sizeof h);
}

/*
 * Append to out the records of a complete answer: data as FCGI_STDOUT
 * records, the empty STDOUT record that ends the stream, and
 * FCGI_END_REQUEST with status 0. Pure; the unit tests check the bytes.
 */
void
conn_encode_records(
    struct buf *out, int request_id, const char *data, size_t len)
{
	static const char zeros[8];
	unsigned char end[8] = { 0, 0, 0, 0, FCGI_REQUEST_COMPLETE, 0, 0, 0 };
	size_t	      n, pad;

	buf_reserve(out, len + len / FCGI_MAX_CONTENT * 16 + 40);
	while (len > 0) {
		n = len > FCGI_MAX_CONTENT ? FCGI_MAX_CONTENT : len;
		pad = (8 - n % 8) % 8;
		record_header(out, FCGI_STDOUT, request_id, n, pad);
		buf_add(out, data, n);
		buf_add(out, zeros, pad);
		data += n;
		len -= n;
	}
	record_header(out, FCGI_STDOUT, request_id, 0, 0);
	record_header(out, FCGI_END_REQUEST, request_id, sizeof end, 0);
	buf_add(out, end, sizeof end);
}

/* Write what the socket takes; close when done or broken. */
static void
conn_flush(struct conn *c)
{
	ssize_t n;

	while (c->out_off < c->out.len) {
		n = send(c->io.fd, c->out.data + c->out_off,
		    c->out.len - c->out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			c->out_off += (size_t)n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			c->state = CONN_WRITING;
			loop_io_set(&c->io, EPOLLOUT);
			return;
		}
		log_debug("send fd %d: %s", c->io.fd, strerror(errno));
		conn_close(c);
		return;
	}
	if (c->keep && keeping)
		conn_idle(c);
	else
		conn_close(c);
}

/*
 * Answer the request with data (a CGI response: headers, blank line,
 * body) and close the conn once it is written. The conn must not be used
 * by the caller after this.
 */
void
conn_respond(struct conn *c, const char *data, size_t len)
{
	if (c->state == CONN_CLOSED || c->state == CONN_WRITING)
		return;
	/*
	 * A parked conn stays registered for EPOLLIN | EPOLLRDHUP: the usual
	 * next step is close, which unregisters it for free; if the write
	 * must wait, conn_flush turns the registration to EPOLLOUT.
	 */
	c->on_gone = NULL;
	c->state = CONN_NEW;
	buf_reset(&c->out);
	conn_encode_records(&c->out, c->request_id, data, len);
	c->out_off = 0;
	/* The request's own memory is not needed once the answer is made. */
	pool_free(c->req.pool);
	memset(&c->req, 0, sizeof c->req);
	conn_flush(c);
}

/*
 * Keep the request for later: on_gone(c, arg) is called if nginx closes
 * the connection first (the browser went away), after which c is closed.
 * The request's pool is freed: whoever parks copies what it needs.
 */
void
conn_park(struct conn *c, conn_gone_fn on_gone, void *arg)
{
	c->state = CONN_PARKED;
	c->on_gone = on_gone;
	c->on_gone_arg = arg;
	pool_free(c->req.pool);
	memset(&c->req, 0, sizeof c->req);
	buf_free(&c->out);
	loop_io_set(&c->io, EPOLLIN | EPOLLRDHUP);
}

static void
conn_on_io(struct loop_io *io, uint32_t events)
{
	struct conn *c = (struct conn *)io;
	conn_gone_fn fn;

	if (c->state == CONN_WRITING) {
		conn_flush(c);
		return;
	}
	if (c->state == CONN_IDLE) {
		/* nginx closed a connection it kept, or sends a request. */
		if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
			conn_close(c);
		else {
			idle_conns--;
			conn_read(c);
		}
		return;
	}
	if (c->state == CONN_READING) {
		conn_read(c);
		return;
	}
	if (c->state == CONN_PARKED) {
		/* nginx sends nothing after the request: this is the end. */
		fn = c->on_gone;
		c->on_gone = NULL;
		if (fn != NULL)
			fn(c, c->on_gone_arg);
		conn_close(c);
	}
}

/*
 * The socket is closed already (libfcgi closes one it could not read a
 * request from): retire the conn; the struct is freed by conn_reap.
 */
void
conn_lost(struct conn *c)
{
	if (c->state == CONN_CLOSED)
		return;
	if (c->state == CONN_IDLE)
		idle_conns--;
	conn_read_forget(c);
	loop_io_closing(&c->io);
	c->io.fd = -1;
	c->state = CONN_CLOSED;
	c->next_closed = closed_conns;
	closed_conns = c;
	live_conns--;
}

/* Close the socket now; the struct is freed by conn_reap. */
void
conn_close(struct conn *c)
{
	int fd = c->io.fd;

	if (c->state == CONN_CLOSED)
		return;
	conn_lost(c);
	close(fd);
}

/* Free the conns closed since the last call. */
void
conn_reap(void)
{
	struct conn *c;

	while ((c = closed_conns) != NULL) {
		closed_conns = c->next_closed;
		pool_free(c->req.pool);
		buf_free(&c->out);
		free(c);
	}
}
