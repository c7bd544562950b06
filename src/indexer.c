/*
 * indexer: the words of new events into the full-text index (see
 * indexer.h).
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#include "indexer.h"
#include "loop.h"
#include "metrics.h"

static struct app	*indexer_app;
static struct loop_timer indexer_timer;

/*
 * Index one batch; again at once if there may be more, after the delay
 * if the store failed; else sleep until the next write.
 */
static void
indexer_tick(struct loop_timer *t)
{
	int more = 0;

	metrics_index_sweep();
	if (store_index(indexer_app->store, STORE_INDEX_BATCH, &more) !=
	    STORE_OK)
		loop_timer_at(
		    t, loop_now() + indexer_app->conf->index_delay_ms);
	else if (more)
		loop_timer_at(t, loop_now());
}

/* Start indexing at once: a restart may have left a backlog. */
void
indexer_start(struct app *app)
{
	indexer_app = app;
	loop_timer_init(&indexer_timer, indexer_tick);
	loop_timer_at(&indexer_timer, loop_now());
}

/*
 * This process wrote events: index them --index-delay ms from now, unless
 * a sweep is due already (it takes them too).
 */
void
indexer_wrote(void)
{
	if (indexer_app == NULL || indexer_timer.when >= 0)
		return;
	loop_timer_at(
	    &indexer_timer, loop_now() + indexer_app->conf->index_delay_ms);
}

/* Stop indexing: the worker is stopping. */
void
indexer_stop(void)
{
	loop_timer_cancel(&indexer_timer);
	indexer_app = NULL;
}
