/*
 * fcgi: listening and accepting with libfcgi (see fcgi.h).
 *
 * Only nginx should reach the socket: a peer that can write raw FastCGI
 * can crash libfcgi (CVE-2025-23016 is only half fixed in Debian 12's
 * build), so the socket is a unix socket, created with no permissions for
 * others, then given --socket-mode and --socket-group. Even so, others
 * may share nginx's group (www-data: PHP-FPM, other web applications):
 * none of them can stop this process by sending half a request, or
 * nothing, because libfcgi reads a request only once it is whole
 * (conn_read.c, fcgi_scan.c), from the socket or from a copy of it.
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#include <errno.h>
#include <fcgiapp.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "conn.h"
#include "fcgi.h"
#include "log.h"
#include "loop.h"
#include "router.h"
#include "xmalloc.h"

#define ACCEPT_BATCH 64	       /* then let the loop serve others */
#define DRAIN_LIMIT (16 << 20) /* bytes of an oversized body read */
#define READ_TIMEOUT_S 2       /* a blocking read would wait this long */
#define ACCEPT_PAUSE_MS 100    /* out of descriptors: accept again after */

static struct app	*app;
static struct loop_io	 listen_io = { -1, NULL, 0 };
static struct loop_timer accept_resume;
static int		 accept_starved; /* paused since the last accept */

/*
 * Does a server answer on sa? 1 if one does, 0 if the socket is stale (no
 * one listens), -1 if it cannot be told (after logging why).
 */
static int
socket_in_use(const struct sockaddr_un *sa)
{
	int fd, rc;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		log_error("socket: %s", strerror(errno));
		return -1;
	}
	rc = connect(fd, (const struct sockaddr *)sa, sizeof *sa);
	close(fd);
	if (rc == 0)
		return 1;
	if (errno == ECONNREFUSED)
		return 0;
	log_error("%s: cannot tell whether a server is listening there: %s",
	    sa->sun_path, strerror(errno));
	return -1;
}

/* The address of the socket at path; -1 if it does not fit. */
static int
socket_address(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof *sa);
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sa->sun_path) {
		log_error("socket path too long (at most %zu bytes): %s",
		    sizeof sa->sun_path - 1, path);
		return -1;
	}
	memcpy(sa->sun_path, path, strlen(path));
	return 0;
}

/*
 * Before anything is made: may chatd listen at --socket? Yes if nothing is
 * there, or a stale socket that no server answers on (fcgi_listen replaces
 * it). Any other file is refused and left alone, and so is a socket with a
 * server on it. 0, or -1 after logging why.
 */
int
fcgi_check_socket(const struct conf *conf)
{
	struct sockaddr_un sa;
	struct stat	   st;
	int		   used;

	if (socket_address(conf->socket_path, &sa) == -1)
		return -1;
	if (lstat(conf->socket_path, &st) == -1) {
		if (errno == ENOENT)
			return 0;
		log_error("%s: %s", conf->socket_path, strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		log_error("%s: exists and is not a socket: refused, and left "
			  "alone",
		    conf->socket_path);
		return -1;
	}
	if ((used = socket_in_use(&sa)) == 1)
		log_error(
		    "%s: another server is listening there", conf->socket_path);
	return used == 0 ? 0 : -1;
}

/* Give the socket its group and mode; -1 after logging why. */
static int
socket_permissions(const struct conf *conf)
{
	struct group *gr;

	if (conf->socket_group != NULL) {
		if ((gr = getgrnam(conf->socket_group)) == NULL) {
			log_error("no group %s", conf->socket_group);
			return -1;
		}
		if (chown(conf->socket_path, (uid_t)-1, gr->gr_gid) == -1) {
			log_error(
			    "chown %s: %s", conf->socket_path, strerror(errno));
			return -1;
		}
	}
	if (chmod(conf->socket_path, conf->socket_mode) == -1) {
		log_error("chmod %s: %s", conf->socket_path, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Create the listening unix socket: refuse if another server is on the
 * path or it is no socket, replace a stale one. Returns the fd, or -1
 * after logging why.
 */
int
fcgi_listen(const struct conf *conf)
{
	struct sockaddr_un sa;
	struct stat	   st;
	mode_t		   old_mask;
	int		   fd, rc;

	if (fcgi_check_socket(conf) == -1 ||
	    socket_address(conf->socket_path, &sa) == -1)
		return -1;
	/* Checked just now: what is there is a stale socket, if anything. */
	if (lstat(conf->socket_path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(conf->socket_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		log_error("socket: %s", strerror(errno));
		return -1;
	}
	old_mask = umask(0177);
	rc = bind(fd, (struct sockaddr *)&sa, sizeof sa);
	umask(old_mask);
	if (rc == -1 || listen(fd, 4096) == -1) {
		log_error(
		    "listen on %s: %s", conf->socket_path, strerror(errno));
		goto close_fd;
	}
	if (socket_permissions(conf) == -1)
		goto close_fd;
	return fd;
close_fd:
	close(fd);
	return -1;
}

/*
 * Copy the params chatd reads into r, in the request's pool, in one pass
 * over libfcgi's list (a lookup per name was a pass each): the first of
 * each name, as FCGX_GetParam would find it; NULL for those not sent.
 */
static void
read_params(struct request *r, FCGX_Request *fr)
{
	static const struct {
		const char *name;
		size_t	    len;
	} names[] = {
		{ "REQUEST_METHOD", 14 },
		{ "DOCUMENT_URI", 12 },
		{ "QUERY_STRING", 12 },
		{ "CONTENT_TYPE", 12 },
		{ "HTTP_COOKIE", 11 },
		{ "HTTP_X_CHAT_SESSION", 19 },
		{ "HTTP_X_CSRF_TOKEN", 17 },
		{ "REMOTE_ADDR", 11 },
		{ "HTTPS", 5 },
	};
	const char **slot[] = { &r->method, &r->path, &r->query,
		&r->content_type, &r->cookie, &r->session_header,
		&r->csrf_header, &r->remote_addr, &r->https };
	const char  *eq;
	char	   **e;
	size_t	     i, n;

	for (i = 0; i < sizeof slot / sizeof slot[0]; i++)
		*slot[i] = NULL;
	for (e = fr->envp; e != NULL && *e != NULL; e++) {
		if ((eq = strchr(*e, '=')) == NULL)
			continue;
		n = (size_t)(eq - *e);
		for (i = 0; i < sizeof names / sizeof names[0]; i++) {
			if (names[i].len != n || memcmp(*e, names[i].name, n))
				continue;
			if (*slot[i] == NULL)
				*slot[i] = pool_strndup(
				    r->pool, eq + 1, strlen(eq + 1));
			break;
		}
	}
}

/*
 * Read the body to its end, keeping at most max bytes; past that the
 * request is marked too large and the rest is read and dropped. 0 at the
 * end; -1 past DRAIN_LIMIT, or too large and cut short (conn_read.c keeps
 * no more than the largest limit of any route): too large, and the
 * connection cannot carry another request; -2 if the stream broke first:
 * the body is not whole and must not be acted on.
 */
static int
read_body(struct request *r, FCGX_Request *fr, size_t max)
{
	struct buf body;
	char	   chunk[8192];
	size_t	   total = 0;
	int	   n;

	buf_init(&body);
	while ((n = FCGX_GetStr(chunk, sizeof chunk, fr->in)) > 0) {
		total += (size_t)n;
		if (total <= max)
			buf_add(&body, chunk, (size_t)n);
		else
			r->body_too_large = 1;
		if (total > DRAIN_LIMIT) {
			r->body_too_large = 1; /* even under a larger max */
			break;
		}
	}
	r->body.p =
	    body.len ? pool_strndup(r->pool, body.data, body.len) : NULL;
	r->body.len = body.len;
	buf_free(&body);
	if (n == 0 && FCGX_GetError(fr->in) == 0)
		return 0;
	return total > DRAIN_LIMIT || r->body_too_large ? -1 : -2;
}

/*
 * Copy what chatd needs of a request libfcgi has read into c; -1 if its
 * body could not be read whole (the peer went away or stalled).
 */
static int
fill_request(struct conn *c, FCGX_Request *fr)
{
	struct request *r = &c->req;
	int		rc;

	read_params(r, fr);
	/* Kept for the next request only if this one was read whole. */
	rc = read_body(r, fr, router_body_limit(app, r->path));
	c->keep = rc == 0 && fr->keepConnection;
	/*
	 * From here on the socket is ours: libfcgi's buffers go. The socket
	 * stays blocking: chatd only ever writes to it, with MSG_DONTWAIT
	 * (conn.c), and never execs, so neither O_NONBLOCK nor FD_CLOEXEC is
	 * worth a system call per request.
	 */
	FCGX_Free(fr, 0);
	return rc == -2 ? -1 : 0;
}

/*
 * Let libfcgi read a request from fd, an open connection: keepConnection
 * stops FCGX_Accept_r from first closing the socket as the end of a
 * previous request, and with no listening socket (-1), a request it
 * cannot read makes it close fd and fail instead of accepting another
 * connection. NULL then.
 */
static FCGX_Request *
read_request(int fd)
{
	FCGX_Request *fr;

	fr = xcalloc(1, sizeof *fr);
	FCGX_InitRequest(fr, -1, FCGI_FAIL_ACCEPT_ON_INTR);
	fr->ipcFd = fd;
	fr->keepConnection = 1;
	if (FCGX_Accept_r(fr) < 0) {
		free(fr);
		return NULL;
	}
	return fr;
}

/*
 * c's request is whole in fd (conn_read.c): c's socket, or a copy of the
 * request, closed here. libfcgi reads it, and the router has it; a body
 * that broke off is dropped with its connection.
 */
static void
on_request(struct conn *c, int fd)
{
	FCGX_Request *fr;
	int	      whole;

	if ((fr = read_request(fd)) == NULL) {
		if (fd == c->io.fd)
			conn_lost(c); /* libfcgi closed it */
		else
			conn_close(c); /* it closed the copy */
		return;
	}
	conn_reuse(c, fr->requestId);
	whole = fill_request(c, fr) == 0;
	free(fr);
	if (fd != c->io.fd)
		close(fd);
	if (whole)
		router_dispatch(app, c);
	else {
		log_warn("a request's body broke off: dropped");
		conn_close(c);
	}
}

/*
 * Out of descriptors (EMFILE and the like): the listening socket is
 * level-triggered, so leaving the connection in its queue would wake the
 * loop for it again at once, forever, at 100% CPU. Stop watching it and
 * try again a little later, once descriptors may have been freed; what
 * waits in the queue is accepted then. Logged once per shortage.
 */
static void
pause_accepting(int err)
{
	if (!accept_starved)
		log_warn("accept: %s; accepting again every %d ms until a "
			 "descriptor is free",
		    strerror(err), ACCEPT_PAUSE_MS);
	accept_starved = 1;
	loop_io_set(&listen_io, 0);
	loop_timer_at(&accept_resume, loop_now() + ACCEPT_PAUSE_MS);
}

/* The pause is over: watch the socket again. */
static void
resume_accepting(struct loop_timer *t)
{
	if (listen_io.fd >= 0)
		loop_io_set(&listen_io, EPOLLIN | EPOLLEXCLUSIVE);
}

/*
 * Accept the connections waiting on the socket; each one's first request
 * is read once whole (conn_read). chatd accepts them itself, rather than
 * through libfcgi, so that nothing waits; the receive timeout
 * (SO_RCVTIMEO) is a second bound, on the reads of a socket that
 * fcgi_scan.c found whole, which never wait.
 */
static void
on_listen(struct loop_io *io, uint32_t events)
{
	static const struct timeval timeout = { READ_TIMEOUT_S, 0 };
	int			    i, fd;

	for (i = 0; i < ACCEPT_BATCH; i++) {
		fd = accept4(io->fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM)
				pause_accepting(errno);
			else if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR)
				log_warn("accept: %s", strerror(errno));
			return;
		}
		if (accept_starved) {
			accept_starved = 0;
			log_info("accept: descriptors free again");
		}
		if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout,
			sizeof timeout) == -1) {
			log_warn("SO_RCVTIMEO: %s", strerror(errno));
			close(fd);
			continue;
		}
		conn_read(conn_new(fd, 0));
	}
}

/* Serve requests arriving on listen_fd. */
void
fcgi_start(struct app *a, int listen_fd)
{
	app = a;
	listen_io.fd = listen_fd;
	listen_io.fn = on_listen;
	loop_timer_init(&accept_resume, resume_accepting);
	conn_read_init(on_request, router_max_body(a), DRAIN_LIMIT);
	loop_io_set(&listen_io, EPOLLIN | EPOLLEXCLUSIVE);
}

/*
 * The settings were read again (SIGHUP): a request is read whole up to the
 * largest body a route now takes. Nothing to do before fcgi_start.
 */
void
fcgi_limits_changed(void)
{
	if (app != NULL)
		conn_read_set_keep(router_max_body(app));
}

/*
 * Stop accepting: answer what is already queued on the socket (polls are
 * answered at once by now), then leave the socket to the other workers.
 */
void
fcgi_stop(void)
{
	if (listen_io.fd < 0)
		return;
	loop_io_set(&listen_io, 0);
	on_listen(&listen_io, EPOLLIN);
	loop_timer_cancel(&accept_resume); /* the drain may have paused */
	close(listen_io.fd);
	listen_io.fd = -1;
}
