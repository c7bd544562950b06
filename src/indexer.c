/*
 * indexer: the words of new events into the full-text index (see
 * indexer.h).
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#include "indexer.h"
#include "loop.h"

static struct app	*indexer_app;
static struct loop_timer indexer_timer;

/* Index one batch; again at once if there may be more. */
static void
indexer_tick(struct loop_timer *t)
{
	int more = 0;

	if (store_index(indexer_app->store, STORE_INDEX_BATCH, &more) !=
	    STORE_OK)
		more = 0;
	loop_timer_at(
	    t, loop_now() + (more ? 0 : indexer_app->conf->index_delay_ms));
}

/* Start indexing at once: a restart may have left a backlog. */
void
indexer_start(struct app *app)
{
	indexer_app = app;
	loop_timer_init(&indexer_timer, indexer_tick);
	loop_timer_at(&indexer_timer, loop_now());
}

/* Stop indexing: the worker is stopping. */
void
indexer_stop(void)
{
	loop_timer_cancel(&indexer_timer);
}
