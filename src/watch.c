/*
 * watch: data_version, inotify, and reading new rows (see watch.h).
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"
#include "waiter.h"
#include "watch.h"
#include "xmalloc.h"

#define WATCH_BATCH 500
#define WATCH_RECHECKS 4 /* after a hint: at 1, 2, 4 and 8 ms */

static struct app	*app;
static int64_t		 last_id; /* rows up to it delivered */
static int64_t		 last_version;
static int		 undelivered; /* a delivery failed: retry */
static struct loop_timer tick_timer;
static struct loop_timer recheck_timer;
static int		 rechecks_left;
static struct loop_timer hold_timer; /* --coalesce-delay: a held delivery */
static int64_t		 delivered_at = -1; /* loop_now() of the last one */
static struct loop_io	 inotify_io = { -1, NULL, 0 };
static char		*wal_name; /* basename of the -wal file */

/*
 * Read the rows after last_id and offer them to the parked polls; -1 if
 * the store could not be read (undelivered is then set, and the next
 * check tries again).
 */
static int
deliver(void)
{
	struct event_list batch;
	int64_t		  max;
	int		  rc = 0;

	memset(&batch, 0, sizeof batch);
	for (;;) {
		if (waiter_count() == 0) {
			/*
			 * Nobody waits (any more): move the mark past what
			 * exists, so that a poll coming back with a cursor
			 * below it reads the rest from the store.
			 */
			if ((max = store_max_id(app->store)) < 0)
				rc = -1;
			else if (max > last_id) {
				last_id = max;
				waiter_mark(last_id);
			}
			break;
		}
		if (store_read_after(
			app->store, last_id, WATCH_BATCH, &batch) != STORE_OK) {
			rc = -1;
			break;
		}
		if (batch.n == 0)
			break;
		last_id = batch.v[batch.n - 1].id;
		delivered_at = loop_now();
		waiter_news(&batch, last_id);
		if (batch.n < WATCH_BATCH)
			break;
		event_list_clear(&batch);
	}
	event_list_clear(&batch);
	undelivered = rc == -1;
	return rc;
}

/*
 * New rows may be there: deliver them now, unless a delivery to parked
 * polls went out less than --coalesce-delay ms ago; then deliver when that
 * much has passed since it, so that whatever comes meanwhile goes out in
 * one answer per poll. The first rows after a quiet spell go at once. A
 * held delivery reads every row committed until it fires.
 */
static void
offer(void)
{
	int64_t delay = app->conf->coalesce_delay_ms;

	if (hold_timer.when >= 0)
		return;
	if (delay > 0 && delivered_at >= 0 &&
	    loop_now() - delivered_at < delay) {
		loop_timer_at(&hold_timer, delivered_at + delay);
		return;
	}
	deliver();
}

/* The held delivery's time has come. */
static void
hold_done(struct loop_timer *t)
{
	deliver(); /* if it fails, undelivered: the next check tries again */
}

/*
 * Has another connection committed since we last looked, or did the last
 * delivery fail? Offer the new rows if so.
 */
static int
check(void)
{
	int64_t v;

	v = store_data_version(app->store);
	if (v < 0 || (v == last_version && !undelivered))
		return 0;
	last_version = v; /* a failed delivery is retried: undelivered */
	offer();
	return 1;
}

static void
tick(struct loop_timer *t)
{
	check();
	loop_timer_at(t, loop_now() + app->conf->watch_interval_ms);
}

/*
 * A hint came before the writer had published its commit: look again
 * shortly, a few times, before leaving it to the regular tick.
 */
static void
recheck(struct loop_timer *t)
{
	if (check() || --rechecks_left <= 0)
		return;
	loop_timer_at(t, loop_now() + (1 << (WATCH_RECHECKS - rechecks_left)));
}

static void
on_inotify(struct loop_io *io, uint32_t events)
{
	char buf[4096]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	ssize_t			    n;
	char			   *p;
	int			    hinted = 0;

	while ((n = read(io->fd, buf, sizeof buf)) > 0) {
		for (p = buf; p < buf + n; p += sizeof *ev + ev->len) {
			ev = (const struct inotify_event *)p;
			if (ev->len > 0 && strcmp(ev->name, wal_name) == 0)
				hinted = 1;
		}
	}
	if (!hinted || check())
		return;
	rechecks_left = WATCH_RECHECKS;
	loop_timer_at(&recheck_timer, loop_now() + 1);
}

/* Watch the database's directory for writes to its -wal file. */
static void
start_inotify(const char *db_path)
{
	char *copy, *dir;

	copy = xstrdup(db_path);
	dir = dirname(copy);
	inotify_io.fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (inotify_io.fd < 0 ||
	    inotify_add_watch(inotify_io.fd, dir, IN_MODIFY) < 0) {
		log_warn("watch: inotify on %s: %s; relying on the %d ms "
			 "check alone",
		    dir, strerror(errno), app->conf->watch_interval_ms);
		if (inotify_io.fd >= 0)
			close(inotify_io.fd);
		inotify_io.fd = -1;
	} else {
		inotify_io.fn = on_inotify;
		loop_io_set(&inotify_io, EPOLLIN);
	}
	free(copy);
}

/* Start watching app's store; -1 if the store cannot be read. */
int
watch_start(struct app *a)
{
	char  *copy, *base;
	size_t len;

	app = a;
	last_id = store_max_id(app->store);
	last_version = store_data_version(app->store);
	if (last_id < 0 || last_version < 0)
		return -1;
	waiter_mark(last_id);
	copy = xstrdup(app->conf->db_path);
	base = basename(copy);
	len = strlen(base) + sizeof "-wal";
	wal_name = xmalloc(len);
	snprintf(wal_name, len, "%s-wal", base);
	free(copy);
	loop_timer_init(&tick_timer, tick);
	loop_timer_init(&recheck_timer, recheck);
	loop_timer_init(&hold_timer, hold_done);
	loop_timer_at(&tick_timer, loop_now() + app->conf->watch_interval_ms);
	start_inotify(app->conf->db_path);
	return 0;
}

/* This process committed new rows: offer them now. */
void
watch_wrote(void)
{
	offer();
}

/*
 * The newest row offered to this process's parked polls. Every row after
 * it will be offered as soon as it is noticed, so a poll whose cursor is
 * exactly this has nothing to read yet and may park without a query.
 * -1 (no cursor is) while a failed delivery waits for its retry.
 */
int64_t
watch_delivered(void)
{
	return undelivered ? -1 : last_id;
}

/*
 * The mark, if it is also everything this process has committed: -1 while
 * a delivery is held (--coalesce-delay) or failed. Rows kept in memory up
 * to the mark answer a poll only then, so that a client polling after its
 * own send is answered with it.
 */
int64_t
watch_current(void)
{
	return undelivered || hold_timer.when >= 0 ? -1 : last_id;
}

/*
 * The data_version of the last check: when it moves, another connection
 * has committed, and what this process read before may have changed.
 */
int64_t
watch_seen_version(void)
{
	return last_version;
}

void
watch_stop(void)
{
	loop_timer_cancel(&tick_timer);
	loop_timer_cancel(&recheck_timer);
	loop_timer_cancel(&hold_timer);
	if (inotify_io.fd >= 0) {
		loop_io_set(&inotify_io, 0);
		close(inotify_io.fd);
		inotify_io.fd = -1;
	}
}
