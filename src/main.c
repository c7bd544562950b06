/*
 * chatd: a long-polling chat server, a FastCGI daemon behind nginx.
 *
 * How a request flows (each file's first paragraph says more):
 *
 *   main.c     options, signals, worker processes, the loop
 *   fcgi.c     libfcgi accepts and reads the request    -> conn.c
 *   router.c   method + path to a handler
 *   h_*.c      the endpoints: session, send, poll
 *   session.c  who is asking (tokens, CSRF, idle timeout)
 *   waiter.c   parked polls and their timers
 *   watch.c    new rows in the log, from anyone        -> waiter
 *   store.c    SQLite: the event log and the sessions
 *   indexer.c  new events into the full-text index, after the send
 *   reply.c    statuses, headers, JSON bodies           -> conn.c
 *
 * One process runs one thread around one epoll loop; --workers N forks N
 * such processes on the same socket and database, and this file's
 * supervisor restarts one that dies. SIGTERM or SIGINT: stop accepting,
 * answer every waiting poll, finish writing, exit.
 */
#include <errno.h>
#include <fcgiapp.h>
#include <malloc.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "app.h"
#include "conf.h"
#include "conn.h"
#include "fcgi.h"
#include "indexer.h"
#include "log.h"
#include "loop.h"
#include "metrics.h"
#include "notify.h"
#include "retain.h"
#include "session.h"
#include "store.h"
#include "waiter.h"
#include "watch.h"

#define STOP_GRACE_MS 5000 /* to finish writing answers at exit */

static struct app     app;
static struct loop_io signal_io = { -1, NULL, 0 };
static int64_t	      stop_deadline = -1;

/* Block the signals we handle, so they queue for signalfd (or sigwait). */
static void
block_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGCHLD);
	sigprocmask(SIG_BLOCK, set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* Begin a clean stop: no new requests, every waiting poll answered. */
static void
worker_stop(void)
{
	if (app.stopping)
		return;
	log_info("stopping: answering %d waiting poll%s", waiter_count(),
	    waiter_count() == 1 ? "" : "s");
	app.stopping = 1;
	notify_stopping();
	conn_stop_keeping();
	fcgi_stop();
	waiter_answer_all();
	watch_stop();
	session_stop();
	retain_stop();
	indexer_stop();
	stop_deadline = loop_now() + STOP_GRACE_MS;
}

static void
on_signal(struct loop_io *io, uint32_t events)
{
	struct signalfd_siginfo si;

	while (read(io->fd, &si, sizeof si) == sizeof si) {
		if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
			worker_stop();
	}
}

/* One worker: open the store, serve until stopped. Returns the exit code. */
static int
worker_run(const struct conf *conf, int listen_fd)
{
	sigset_t set;

	block_signals(&set);
	if (loop_init() == -1) {
		log_error("epoll: %s", strerror(errno));
		return 1;
	}
	signal_io.fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	signal_io.fn = on_signal;
	loop_io_set(&signal_io, EPOLLIN);
	app.conf = conf;
	if ((app.store = store_open(conf->db_path, conf->sync_full,
		 conf->busy_timeout_ms)) == NULL)
		return 1;
	waiter_init(conf->session_polls);
	if (watch_start(&app) == -1) {
		log_error("cannot read the event log");
		return 1;
	}
	session_reaper_start(&app);
	retain_start(&app);
	indexer_start(&app);
	fcgi_start(&app, listen_fd);
	while (!app.stopping ||
	    (conn_busy_count() > 0 && loop_now() < stop_deadline)) {
		if (loop_run_once(app.stopping ? 100 : -1) == -1) {
			log_error("epoll_wait: %s", strerror(errno));
			break;
		}
		conn_reap();
	}
	store_close(app.store);
	return 0;
}

/* Start one worker process; its pid, or -1. */
static pid_t
spawn_worker(const struct conf *conf, int listen_fd)
{
	pid_t pid;

	pid = fork();
	if (pid == 0) {
		/* A worker must not outlive its supervisor. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() == 1)
			_exit(0);
		_exit(worker_run(conf, listen_fd));
	}
	if (pid < 0)
		log_error("fork: %s", strerror(errno));
	return pid;
}

/*
 * Run conf->workers worker processes and restart any that dies, until
 * SIGTERM or SIGINT, which is passed on to them. Returns the exit code.
 */
static int
supervise(const struct conf *conf, int listen_fd)
{
	pid_t	*pids, pid;
	sigset_t set;
	int	 i, sig, status, stopping = 0, alive = 0;

	block_signals(&set);
	pids = calloc((size_t)conf->workers, sizeof *pids);
	if (pids == NULL)
		return 1;
	for (i = 0; i < conf->workers; i++)
		if ((pids[i] = spawn_worker(conf, listen_fd)) > 0)
			alive++;
	while (alive > 0) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if ((sig == SIGTERM || sig == SIGINT) && !stopping) {
			stopping = 1;
			notify_stopping();
			for (i = 0; i < conf->workers; i++)
				if (pids[i] > 0)
					kill(pids[i], SIGTERM);
		}
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
			for (i = 0; i < conf->workers; i++) {
				if (pids[i] != pid)
					continue;
				pids[i] = 0;
				alive--;
				if (stopping)
					break;
				log_warn("worker %ld died (status %d): "
					 "restarting it",
				    (long)pid, status);
				sleep(1); /* no crash loop at full speed */
				if ((pids[i] = spawn_worker(conf, listen_fd)) >
				    0)
					alive++;
			}
		}
	}
	free(pids);
	return 0;
}

/* Apply the schema once, before any worker opens the database. */
static int
prepare_store(const struct conf *conf)
{
	struct store *st;

	st = store_open(conf->db_path, conf->sync_full, conf->busy_timeout_ms);
	if (st == NULL)
		return -1;
	store_close(st);
	return 0;
}

/*
 * Every waiting poll holds a descriptor (nginx's connection to chatd), so
 * the soft limit (often 1,024) would cap them long before the hard one.
 * Raise it as far as the hard limit allows.
 */
static void
raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur == rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
		log_warn("setrlimit(RLIMIT_NOFILE): %s", strerror(errno));
}

int
main(int argc, char **argv)
{
	struct conf conf;
	int	    listen_fd, rc;

	conf_defaults(&conf);
	switch (conf_parse(&conf, argc, argv)) {
	case CONF_EXIT_OK: return 0;
	case CONF_EXIT_ERROR: return 2;
	case CONF_OK: break;
	}
	log_set_level(conf.log_level);
	raise_fd_limit();
	/*
	 * SQLite allocates and frees about 170 KB for the temporary b-tree of
	 * an IN list at every such statement; glibc then grew and trimmed the
	 * heap with brk(2) twice per send, a quarter of chatd's system time
	 * at 5,000 sends/s. Keep freed memory (up to 16 MB) for reuse instead.
	 */
	mallopt(M_MMAP_THRESHOLD, 4 << 20);
	mallopt(M_TRIM_THRESHOLD, 16 << 20);
	/*
	 * chatd frames its own answers and closes its own sockets; should
	 * libfcgi close one (a malformed request), it must not linger.
	 */
	setenv("LIBFCGI_OS_CLOSE_POLL_TIMEOUT", "0", 0);
	if (FCGX_Init() != 0) {
		log_error("FCGX_Init failed");
		return 1;
	}
	if (prepare_store(&conf) == -1)
		return 1;
	if ((listen_fd = fcgi_listen(&conf)) == -1)
		return 1;
	metrics_init(); /* before the workers: they share it */
	log_info("chatd %s serving %s on %s (%d worker%s)", PACKAGE_VERSION,
	    conf.db_path, conf.socket_path, conf.workers,
	    conf.workers > 1 ? "s" : "");
	notify_ready();
	if (conf.workers == 1)
		rc = worker_run(&conf, listen_fd);
	else
		rc = supervise(&conf, listen_fd);
	unlink(conf.socket_path);
	log_info("stopped");
	return rc;
}
