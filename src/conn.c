/*
 * conn: FastCGI answers written without blocking (see conn.h).
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <limits.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>
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

/* Write a record header of type for request_id into h (8 bytes). */
static void
record_header(
    unsigned char *h, int type, int request_id, size_t len, size_t pad)
{
	h[0] = FCGI_VERSION_1;
	h[1] = (unsigned char)type;
	h[2] = (unsigned char)(request_id >> 8);
	h[3] = (unsigned char)request_id;
	h[4] = (unsigned char)(len >> 8);
	h[5] = (unsigned char)len;
	h[6] = (unsigned char)pad;
	h[7] = 0;
}

/* Add the len bytes at p to f's list. */
static void
frame_add(struct conn_frame *f, const void *p, size_t len)
{
	f->iov[f->n].iov_base = (void *)(uintptr_t)p;
	f->iov[f->n].iov_len = len;
	f->n++;
	f->len += len;
}

/*
 * Frame data, the nin buffers of in one after another, as the records of
 * a complete answer into f: FCGI_STDOUT records of at most 65535 bytes
 * (a buffer may straddle two, split), the empty STDOUT record that ends
 * the stream, and FCGI_END_REQUEST with status 0. f points into in's
 * buffers and its own headers, copying no data; conn_frame_free frees it.
 * Pure; the unit tests check the bytes.
 */
void
conn_frame_make(
    struct conn_frame *f, int request_id, const struct iovec *in, int nin)
{
	static const char zeros[8];
	size_t		  total = 0, n, pad, off = 0, take;
	unsigned char	 *h;
	int		  i = 0, records, cap;

	for (i = 0; i < nin; i++)
		total += in[i].iov_len;
	records = (int)((total + FCGI_MAX_CONTENT - 1) / FCGI_MAX_CONTENT);
	cap = nin + 3 * records + 2;
	f->iov = cap <= CONN_FRAME_SMALL ? f->iov_small :
					   xcalloc(cap, sizeof *f->iov);
	f->heads = records + 2 <= CONN_FRAME_SMALL_RECORDS ?
	    f->heads_small :
	    xcalloc(records + 3, 8);
	f->n = 0;
	f->len = 0;
	h = f->heads;
	i = 0;
	while (total > 0) {
		n = total > FCGI_MAX_CONTENT ? FCGI_MAX_CONTENT : total;
		pad = (8 - n % 8) % 8;
		record_header(h, FCGI_STDOUT, request_id, n, pad);
		frame_add(f, h, 8);
		h += 8;
		total -= n;
		while (n > 0) {
			if (off == in[i].iov_len) {
				i++;
				off = 0;
				continue;
			}
			take =
			    in[i].iov_len - off < n ? in[i].iov_len - off : n;
			frame_add(f, (const char *)in[i].iov_base + off, take);
			off += take;
			n -= take;
		}
		if (pad > 0)
			frame_add(f, zeros, pad);
	}
	record_header(h, FCGI_STDOUT, request_id, 0, 0);
	record_header(h + 8, FCGI_END_REQUEST, request_id, 8, 0);
	memset(h + 16, 0, 8);
	h[16 + 4] = FCGI_REQUEST_COMPLETE;
	frame_add(f, h, 24);
}

/* Free what conn_frame_make took beyond f itself. */
void
conn_frame_free(struct conn_frame *f)
{
	if (f->iov != f->iov_small)
		free(f->iov);
	if (f->heads != f->heads_small)
		free(f->heads);
	f->iov = NULL;
	f->heads = NULL;
}

/*
 * Keep in c->out what f holds past its first done bytes (they went out
 * already), for conn_flush to send.
 */
static void
keep_rest(struct conn *c, const struct conn_frame *f, size_t done)
{
	int i;

	buf_reserve(&c->out, f->len - done);
	for (i = 0; i < f->n; i++) {
		if (done >= f->iov[i].iov_len) {
			done -= f->iov[i].iov_len;
			continue;
		}
		buf_add(&c->out, (const char *)f->iov[i].iov_base + done,
		    f->iov[i].iov_len - done);
		done = 0;
	}
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
 * Answer the request with data, the nin buffers of in one after another
 * (a CGI response: headers, blank line, body), and close the conn once it
 * is written. The usual answer goes out in one system call, its records
 * gathered from the buffers (sendmsg); what the socket does not take at
 * once, or past IOV_MAX buffers, is copied and sent by conn_flush. The
 * conn must not be used by the caller after this.
 */
void
conn_respond_iov(struct conn *c, const struct iovec *in, int nin)
{
	struct conn_frame f;
	struct msghdr	  msg;
	ssize_t		  n;

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
	c->out_off = 0;
	conn_frame_make(&f, c->request_id, in, nin);
	memset(&msg, 0, sizeof msg);
	msg.msg_iov = f.iov;
	msg.msg_iovlen = f.n < IOV_MAX ? (size_t)f.n : IOV_MAX;
	do
		n = sendmsg(c->io.fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
	while (n == -1 && errno == EINTR);
	if (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK) {
		log_debug("send fd %d: %s", c->io.fd, strerror(errno));
		conn_frame_free(&f);
		conn_close(c);
		return;
	}
	if ((size_t)(n > 0 ? n : 0) < f.len)
		keep_rest(c, &f, n > 0 ? (size_t)n : 0);
	conn_frame_free(&f);
	/* The request's own memory is not needed once the answer is out. */
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
