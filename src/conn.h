/*
 * conn: one FastCGI request in flight, from accept to the last byte out.
 *
 * fcgi.c creates a conn for each connection it accepts, and conn_read.c
 * watches it until a whole request is in (CONN_READING: libfcgi reads a
 * request only then, so that its blocking reads never wait); the handlers
 * answer it through reply.c, which lands in conn_respond_iov: the answer,
 * a list of buffers, is framed as FastCGI records here without copying
 * them (libfcgi's own stream buffers are freed as soon as the request is
 * read, so a waiting poll costs only this small struct) and written with
 * one sendmsg, without blocking; what the socket does not take at once is
 * copied and sent when epoll says it can be. A parked conn (a waiting poll)
 * watches its socket: nginx closing it means the browser went away.
 *
 * nginx may keep the connection for its next request (fastcgi_keep_conn
 * on, with an upstream keepalive pool): then an answered conn goes idle,
 * watching its socket, and when the next request arrives it is read into
 * the same conn, again once whole (conn_read). That saves nginx a connect
 * and chatd an accept and a close per request.
 *
 * A closed conn is not freed at once, since an event for it may still be
 * in the loop's current batch: conn_reap frees the closed ones between
 * batches.
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#ifndef CHATD_CONN_H
#define CHATD_CONN_H

#include <sys/uio.h>

#include "buf.h"
#include "loop.h"
#include "request.h"

enum conn_state {
	CONN_READING, /* its request coming in, not yet whole */
	CONN_NEW,     /* being handled */
	CONN_PARKED,  /* waiting for news: a parked poll */
	CONN_WRITING, /* answer partly written */
	CONN_IDLE,    /* answered; nginx keeps it for its next request */
	CONN_CLOSED
};

struct conn;
typedef void (*conn_gone_fn)(struct conn *, void *);
typedef void (*conn_next_fn)(struct conn *, int);
struct conn_rd;

struct conn {
	struct loop_io	io;
	int		request_id;
	int		keep; /* FCGI_KEEP_CONN: idle after answering */
	enum conn_state state;
	struct request	req;
	struct buf	out;
	size_t		out_off;
	conn_gone_fn	on_gone; /* parked: the peer went away */
	void	       *on_gone_arg;
	struct conn_rd *rd; /* reading: what has come (conn_read.c) */
	struct conn    *next_closed;
	int64_t		started_ms; /* loop_now() when the request came */
	const char     *route;	    /* the router's path, kept when parked */
};

#define CONN_FRAME_SMALL 16	   /* iovecs of a small answer, inline */
#define CONN_FRAME_SMALL_RECORDS 4 /* and its record headers */

/* An answer framed as FastCGI records: the buffers to write, in order. */
struct conn_frame {
	struct iovec  *iov;
	int	       n;
	size_t	       len; /* bytes in all */
	unsigned char *heads;
	struct iovec   iov_small[CONN_FRAME_SMALL];
	unsigned char  heads_small[8 * CONN_FRAME_SMALL_RECORDS + 8];
};

struct conn *conn_new(int, int);
void	     conn_respond_iov(struct conn *, const struct iovec *, int);
void	     conn_park(struct conn *, conn_gone_fn, void *);
void	     conn_close(struct conn *);
void	     conn_lost(struct conn *);
void	     conn_reap(void);
int	     conn_busy_count(void);
void	     conn_reuse(struct conn *, int);
void	     conn_stop_keeping(void);
void conn_frame_make(struct conn_frame *, int, const struct iovec *, int);
void conn_frame_free(struct conn_frame *);
void conn_read_init(conn_next_fn, size_t, size_t);
void conn_read_set_keep(size_t);
void conn_read(struct conn *);
void conn_read_forget(struct conn *);

#endif
