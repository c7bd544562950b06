/*
 * loop: epoll and timers (see loop.h).
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"

#define LOOP_MAX_EVENTS 256

static int		  epoll_fd = -1;
static struct loop_timer *timers;
static struct loop_post	 *posts;

int
loop_init(void)
{
	epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	return epoll_fd < 0 ? -1 : 0;
}

/* Monotonic milliseconds, for deadlines. */
int64_t
loop_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Unix milliseconds, for timestamps people read. */
int64_t
loop_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Watch io->fd for these epoll events (0: stop watching). Before the fd
 * is closed, call loop_io_set(io, 0) or loop_io_closing(io).
 */
void
loop_io_set(struct loop_io *io, uint32_t events)
{
	struct epoll_event ev;
	int		   op;

	if (events == io->events)
		return;
	memset(&ev, 0, sizeof ev);
	ev.events = events;
	ev.data.ptr = io;
	if (events == 0)
		op = EPOLL_CTL_DEL;
	else if (io->events == 0)
		op = EPOLL_CTL_ADD;
	else
		op = EPOLL_CTL_MOD;
	if (epoll_ctl(epoll_fd, op, io->fd, &ev) == -1)
		log_warn("epoll_ctl fd %d: %s", io->fd, strerror(errno));
	io->events = events;
}

/*
 * The fd of io is about to be closed: closing removes it from epoll by
 * itself (chatd never dups a conn's fd, and conns are accepted after the
 * workers fork), so this saves the EPOLL_CTL_DEL of loop_io_set(io, 0): a
 * system call per answered poll.
 */
void
loop_io_closing(struct loop_io *io)
{
	io->events = 0;
}

/* Run fn(p) once at the end of this iteration (again if posted again). */
void
loop_post(struct loop_post *p, loop_post_fn fn)
{
	if (p->posted)
		return;
	p->fn = fn;
	p->posted = 1;
	p->next = posts;
	posts = p;
}

/* Run the posted work, including any posted while it runs. */
static void
run_posts(void)
{
	struct loop_post *p;

	while ((p = posts) != NULL) {
		posts = p->next;
		p->posted = 0;
		p->fn(p);
	}
}

void
loop_timer_init(struct loop_timer *t, loop_timer_fn fn)
{
	t->when = -1;
	t->fn = fn;
	t->next = NULL;
}

static void
timer_unlink(struct loop_timer *t)
{
	struct loop_timer **pp;

	for (pp = &timers; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			t->next = NULL;
			return;
		}
	}
}

/* Run t's callback once, at loop_now() time when (or soon after). */
void
loop_timer_at(struct loop_timer *t, int64_t when)
{
	if (t->when < 0) {
		t->next = timers;
		timers = t;
	}
	t->when = when;
}

void
loop_timer_cancel(struct loop_timer *t)
{
	if (t->when < 0)
		return;
	timer_unlink(t);
	t->when = -1;
}

/* Fire the timers that are due; return ms until the next one, or -1. */
static int
run_timers(void)
{
	struct loop_timer *t;
	int64_t		   now, next;
	int		   fired;

	do {
		fired = 0;
		now = loop_now();
		for (t = timers; t != NULL; t = t->next) {
			if (t->when <= now) {
				loop_timer_cancel(t);
				t->fn(t);
				fired = 1;
				break; /* the list may have changed */
			}
		}
	} while (fired);
	next = -1;
	for (t = timers; t != NULL; t = t->next) {
		if (next < 0 || t->when < next)
			next = t->when;
	}
	return next < 0 ? -1 : (int)(next - now);
}

/*
 * Wait for events (at most max_wait ms, -1 for no limit besides the
 * timers) and dispatch them. Returns -1 on a fatal epoll error.
 */
int
loop_run_once(int max_wait)
{
	struct epoll_event events[LOOP_MAX_EVENTS];
	struct loop_io	  *io;
	int		   n, i, wait;

	wait = run_timers();
	if (max_wait >= 0 && (wait < 0 || wait > max_wait))
		wait = max_wait;
	n = epoll_wait(epoll_fd, events, LOOP_MAX_EVENTS, wait);
	if (n == -1)
		return errno == EINTR ? 0 : -1;
	for (i = 0; i < n; i++) {
		io = events[i].data.ptr;
		io->fn(io, events[i].events);
	}
	run_posts();
	run_timers();
	run_posts();
	return 0;
}
