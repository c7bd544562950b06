/*
 * metrics: what chatd counts for GET /api/metrics (h_ops.c), in memory
 * shared by every worker of one chatd, so that a scrape, which nginx
 * hands to whichever worker, sees the whole daemon.
 *
 * metrics_init maps the counters before the workers are forked; without
 * it (the unit tests) they live in this process alone. Counting is an
 * atomic add, with no lock and no system call.
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#ifndef CHATD_METRICS_H
#define CHATD_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"

void	metrics_init(void);
void	metrics_request(const char *, int);
void	metrics_send(void);
void	metrics_delivered(size_t);
void	metrics_store_error(void);
int64_t metrics_clock(void);
void	metrics_commit(int64_t);
void	metrics_index_sweep(void);
void	metrics_indexed(int);
void	metrics_waiting(int);
void	metrics_format(struct buf *);
time_t	metrics_started(void);

#endif
