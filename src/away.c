/*
 * away: the grace of sessions whose page went away (see away.h).
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#include <stdlib.h>

#include "away.h"
#include "log.h"
#include "loop.h"
#include "waiter.h"
#include "watch.h"
#include "xmalloc.h"

struct away_mark {
	int64_t sid;
	int64_t deadline; /* loop_now() ms */
};

static struct app	*away_app;
static struct away_mark *marks;
static size_t		 marks_n, marks_cap;
static struct loop_timer away_timer;
static int		 timer_ready;

/* Forget mark i (order does not matter). */
static void
drop(size_t i)
{
	marks[i] = marks[--marks_n];
}

/* End the sessions whose grace is over, unless they came back. */
static void
away_tick(struct loop_timer *t)
{
	int64_t now = loop_now();
	size_t	i = 0;
	int	ended = 0;

	(void)t;
	while (i < marks_n) {
		if (marks[i].deadline > now) {
			i++;
			continue;
		}
		if (!waiter_has_session(marks[i].sid) &&
		    store_end_away(away_app->store, marks[i].sid,
			loop_wall_ms(), &ended) != STORE_OK) {
			/* The store is busy: try again in a second. */
			marks[i].deadline = now + 1000;
			i++;
			continue;
		}
		drop(i);
	}
	if (ended > 0) {
		log_info("ended %d session%s gone away", ended,
		    ended > 1 ? "s" : "");
		watch_wrote();
	}
	if (marks_n > 0)
		loop_timer_at(&away_timer, now + 1000);
}

/* Session sid's page is going away: end it after the grace. */
void
away_mark(struct app *app, int64_t sid)
{
	away_app = app;
	if (!timer_ready) {
		loop_timer_init(&away_timer, away_tick);
		timer_ready = 1;
	}
	away_seen(sid);
	if (marks_n == marks_cap) {
		marks_cap = marks_cap ? marks_cap * 2 : 64;
		marks = xrealloc(marks, marks_cap * sizeof *marks);
	}
	marks[marks_n].sid = sid;
	marks[marks_n].deadline = loop_now() + AWAY_GRACE_MS;
	marks_n++;
	loop_timer_at(&away_timer, loop_now() + 1000);
}

/* A request of session sid came: it is not going away after all. */
void
away_seen(int64_t sid)
{
	size_t i = 0;

	while (i < marks_n) {
		if (marks[i].sid == sid)
			drop(i);
		else
			i++;
	}
}

/* At exit: forget the marks (the idle reaper ends those sessions). */
void
away_stop(void)
{
	if (timer_ready)
		loop_timer_cancel(&away_timer);
	free(marks);
	marks = NULL;
	marks_n = marks_cap = 0;
}
