/*
 * indexer: the words of new events into the full-text index, after the
 * send (sql/008-search-deferred.sql).
 *
 * A send writes its event only; a timer in every process puts the words
 * of the events above the index's mark into events_fts, STORE_INDEX_BATCH
 * events per transaction (store_index): at start, then every
 * --index-delay ms (250 by default) while there is no backlog, and at
 * once again while there is one. FTS5 then pays its per-transaction cost
 * (a new segment, merges) once per thousand events instead of once per
 * send batch. A search indexes what is left before it reads
 * (store_search), so it never misses an event written before it; a
 * restart finds the events left above the mark and indexes them.
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#ifndef CHATD_INDEXER_H
#define CHATD_INDEXER_H

#include "app.h"

void indexer_start(struct app *);
void indexer_stop(void);

#endif
