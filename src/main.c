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
 *   reply.c    statuses, headers, JSON bodies           -> conn.c
 *
 * One process runs one thread around one epoll loop; --workers N forks N
 * such processes on the same socket and database, and this file's
 * supervisor restarts one that dies. SIGTERM or SIGINT: stop accepting,
 * answer every waiting poll, finish writing, exit. SIGHUP: read the
 * configuration again (conf_reload; the supervisor passes it on to the
 * workers). SIGUSR1, which libfcgi would otherwise take for itself:
 * each worker logs its summary line at once.
 *
 * Start-up runs every check that can fail before it makes anything: the
 * options and the file, the users and groups, the socket's path (only a
 * stale socket may be there), the database's directory and its schema
 * version, read without writing. Only then does it make the directories,
 * create or migrate the database, listen, and drop root (priv.c).
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
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
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include "app.h"
#include "conf.h"
#include "conn.h"
#include "fcgi.h"
#include "log.h"
#include "loop.h"
#include "metrics.h"
#include "notify.h"
#include "priv.h"
#include "reply.h"
#include "retain.h"
#include "session.h"
#include "store.h"
#include "waiter.h"
#include "watch.h"

#define STOP_GRACE_MS 5000 /* to finish writing answers at exit */
#define SUMMARY_MS 60000   /* a summary line this often, at info */

#ifndef CHATD_FCGI_VERSION
#define CHATD_FCGI_VERSION "unknown"
#endif

static struct app	 app;
static struct conf	 settings;
static int		 main_argc; /* for conf_reload */
static char	       **main_argv;
static struct loop_io	 signal_io = { -1, NULL, 0 };
static struct loop_timer summary_timer;
static int64_t		 stop_deadline = -1;

/* Block the signals we handle, so they queue for signalfd (or sigwait). */
static void
block_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGUSR1);
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
	stop_deadline = loop_now() + STOP_GRACE_MS;
}

/* SIGHUP: the log file and the configuration, read again. */
static void
reload(void)
{
	log_reopen();
	conf_reload(&settings, main_argc, main_argv);
	fcgi_limits_changed(); /* --max-body, --max-image */
}

/*
 * What this process has done since the last summary, at info: once a
 * minute, and at once on SIGUSR1 (which the timer then starts over).
 */
static void
summary_log(const char *since)
{
	struct reply_counts n;

	reply_counts_take(&n);
	log_info("summary (%s): %lu request%s (%lu failed), %lu send%s, %d "
		 "poll%s waiting",
	    since, n.requests, n.requests == 1 ? "" : "s", n.failed, n.sends,
	    n.sends == 1 ? "" : "s", waiter_count(),
	    waiter_count() == 1 ? "" : "s");
	loop_timer_at(&summary_timer, loop_now() + SUMMARY_MS);
}

static void
summary_tick(struct loop_timer *t)
{
	summary_log("last minute");
}

static void
on_signal(struct loop_io *io, uint32_t events)
{
	struct signalfd_siginfo si;

	while (read(io->fd, &si, sizeof si) == sizeof si) {
		if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
			worker_stop();
		else if (si.ssi_signo == SIGHUP)
			reload();
		else if (si.ssi_signo == SIGUSR1)
			summary_log("SIGUSR1");
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
	loop_timer_init(&summary_timer, summary_tick);
	loop_timer_at(&summary_timer, loop_now() + SUMMARY_MS);
	retain_start(&app);
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
		if (sig == SIGHUP)
			reload();
		for (i = 0;
		     (sig == SIGHUP || sig == SIGUSR1) && i < conf->workers;
		     i++)
			if (pids[i] > 0)
				kill(pids[i], sig);
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

/*
 * Every check that can fail, before anything is made: the users and
 * groups, the socket's path, the database's directory and schema.
 */
static int
check_all(struct priv *p)
{
	if (priv_lookup(&settings, p) == -1 || priv_check(&settings, p) == -1)
		return -1;
	if (fcgi_check_socket(&settings) == -1)
		return -1;
	return store_check(settings.db_path);
}

/*
 * Make what chatd needs, in order: directories, the database (created or
 * migrated, then given to the user), the socket; then drop root. The
 * listening socket, or -1 after logging why.
 */
static int
make_all(const struct priv *p)
{
	int fd;

	if (priv_prepare(&settings, p) == -1 ||
	    prepare_store(&settings) == -1 || priv_own_db(&settings, p) == -1)
		return -1;
	if ((fd = fcgi_listen(&settings)) == -1)
		return -1;
	if (priv_drop(&settings, p) == -1) {
		close(fd);
		unlink(settings.socket_path);
		return -1;
	}
	return fd;
}

/* The start-up lines: versions, where, as whom, every setting. */
static void
log_start(void)
{
	log_info("chatd %s (SQLite %s, libfcgi %s) serving %s on %s (%d "
		 "worker%s) as uid %ld gid %ld",
	    PACKAGE_VERSION, sqlite3_libversion(), CHATD_FCGI_VERSION,
	    settings.db_path, settings.socket_path, settings.workers,
	    settings.workers > 1 ? "s" : "", (long)getuid(), (long)getgid());
	conf_log(&settings);
}

int
main(int argc, char **argv)
{
	struct priv p;
	sigset_t    set;
	int	    listen_fd, rc;

	/* Before libfcgi's FCGX_Init could take SIGUSR1 and SIGTERM. */
	block_signals(&set);
	main_argc = argc;
	main_argv = argv;
	switch (conf_load(&settings, argc, argv)) {
	case CONF_EXIT_OK: return 0;
	case CONF_EXIT_USAGE: return 2;
	case CONF_EXIT_ENV: return 1;
	case CONF_OK: break;
	}
	log_set_level(settings.log_level);
	if (log_open(settings.syslog, settings.syslog_facility,
		settings.log_file) == -1)
		return 1;
	if (settings.check_config) {
		if (priv_lookup(&settings, &p) == -1)
			return 1;
		printf("chatd: the configuration is good (%s and the command "
		       "line)\n",
		    settings.config_path ? settings.config_path : "no file");
		return 0;
	}
	if (check_all(&p) == -1)
		return 1;
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
	if ((listen_fd = make_all(&p)) == -1)
		return 1;
	metrics_init(); /* before the workers: they share it */
	log_start();
	notify_ready();
	if (settings.workers == 1)
		rc = worker_run(&settings, listen_fd);
	else
		rc = supervise(&settings, listen_fd);
	unlink(settings.socket_path);
	log_info("stopped");
	return rc;
}
