/*
 * retain: --retain DAYS, the history kept for so many days and no longer.
 *
 * A timer in every process deletes the events older than DAYS days (by
 * their ts), with their images, and the sessions that ended before then,
 * in short transactions of at most RETAIN_BATCH events (store_retain): a
 * batch a second while there is a backlog, then a look once a minute.
 * Polls and sends are served between batches, and two processes' batches
 * take turns at the write lock. Cursors stay valid: ids are never reused
 * (AUTOINCREMENT) and the newest event is never deleted, so a poll from a
 * cursor below the oldest kept event reads every later event, once. What
 * the rate limit and the image quota read (a live session's sends of the
 * last seconds, or of at most a day) is younger than a day, the least
 * --retain keeps; a retried client_id is recognised as long as its first
 * send is kept.
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#ifndef CHATD_RETAIN_H
#define CHATD_RETAIN_H

#include "app.h"

void retain_start(struct app *);
void retain_stop(void);

#endif
