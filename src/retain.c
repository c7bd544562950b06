/*
 * retain: the deleting of old history, batch by batch (see retain.h).
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#include "log.h"
#include "loop.h"
#include "retain.h"

#define RETAIN_BATCH 500
#define RETAIN_BUSY_MS 1000  /* next batch, while there is a backlog */
#define RETAIN_IDLE_MS 60000 /* next look, once there is none */
#define DAY_MS (86400 * 1000LL)

static struct app	*retain_app;
static struct loop_timer retain_timer;
static long long	 deleted_events, deleted_sessions; /* this backlog */

/* Delete one batch; again in a second if there may be more. */
static void
retain_tick(struct loop_timer *t)
{
	int64_t cutoff;
	int	events = 0, sessions = 0, more = 0;

	cutoff = loop_wall_ms() - retain_app->conf->retain_days * DAY_MS;
	if (store_retain(retain_app->store, cutoff, RETAIN_BATCH, &events,
		&sessions) == STORE_OK) {
		deleted_events += events;
		deleted_sessions += sessions;
		more = events > 0 || sessions > 0;
	}
	if (!more && (deleted_events > 0 || deleted_sessions > 0)) {
		log_info("retain: deleted %lld events and %lld ended sessions "
			 "older than %d day%s",
		    deleted_events, deleted_sessions,
		    retain_app->conf->retain_days,
		    retain_app->conf->retain_days > 1 ? "s" : "");
		deleted_events = deleted_sessions = 0;
	}
	loop_timer_at(t, loop_now() + (more ? RETAIN_BUSY_MS : RETAIN_IDLE_MS));
}

/* Start deleting, if --retain asks for it, a second from now. */
void
retain_start(struct app *app)
{
	retain_app = app;
	loop_timer_init(&retain_timer, retain_tick);
	if (app->conf->retain_days > 0)
		loop_timer_at(&retain_timer, loop_now() + RETAIN_BUSY_MS);
}

void
retain_stop(void)
{
	loop_timer_cancel(&retain_timer);
}
