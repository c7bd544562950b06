/*
 * indexer: the words of new events into the full-text index, after the
 * send (sql/008-search-deferred.sql).
 *
 * A send writes its event only; each process then puts the words of the
 * events above the index's mark into events_fts, STORE_INDEX_BATCH events
 * per transaction (store_index): at start, --index-delay ms (250 by
 * default) after a batch of sends it wrote found no sweep due, and at
 * once again while a backlog remains. An idle process never wakes for
 * it: no timer runs until it writes. FTS5 then pays its per-transaction
 * cost (a new segment, merges) once per thousand events instead of once
 * per send batch. Rows another process or the sqlite3 shell wrote are
 * that process's to index, or the next search's. A search indexes what is left
 * before it reads (store_search), so it never misses an event written before
 * it; a restart finds the events left above the mark and indexes them.
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#ifndef CHATD_INDEXER_H
#define CHATD_INDEXER_H

#include "app.h"

void indexer_start(struct app *);
void indexer_wrote(void);
void indexer_stop(void);

#endif
