/*
 * watch: noticing new rows in the log, whoever wrote them.
 *
 * The proof that the log changed is SQLite's PRAGMA data_version, which
 * moves when any other connection (another chatd process, the sqlite3
 * shell) commits; it is checked every --watch-interval ms, which costs the
 * same for ten parked polls as for ten thousand. inotify on the -wal file
 * is only a hint that makes the check come at once. Commits of this
 * process do not move data_version: the handlers call watch_wrote().
 * Either way, the new rows are read once and handed to the waiter; while
 * they keep coming, at most once per --coalesce-delay ms, so that under a
 * high rate each answer carries several events.
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#ifndef CHATD_WATCH_H
#define CHATD_WATCH_H

#include "app.h"

int	watch_start(struct app *);
void	watch_wrote(void);
int64_t watch_delivered(void);
int64_t watch_current(void);
int64_t watch_seen_version(void);
void	watch_stop(void);

#endif
