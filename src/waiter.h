/*
 * waiter: parked polls, their timers, and waking them with news.
 *
 * A poll that finds nothing to answer is parked here: a small struct that
 * keeps its conn (just a socket and a request id by then), its cursor, its
 * room and session, and the poll handler's function that answers it. No
 * thread or process waits for it. It leaves the waiter in one of three
 * ways: news (waiter_news, with a batch of new rows it may see), its
 * timeout (answered with no events), or its client going away (freed).
 *
 * Timeouts are whole seconds from 0 to 60, so each value has a FIFO list:
 * polls parked later expire later, so each list is sorted by deadline for
 * free and the next deadline is the smallest of 61 heads.
 *
 * A session may hold a few parked polls (--session-polls: the tabs of one
 * person); its next one answers its oldest at once, with no events and
 * its cursor, so that one session cannot hold any number of sockets. Its
 * polls are a second list, in park order, found by a small hash of
 * session ids. Each event of a batch of news is encoded to JSON once, the
 * first time a poll may see it, into a piece that every poll answered
 * with it shares (event_piece); the last rows are kept a while with their
 * pieces, so that a poll that comes back just behind the watcher is
 * answered from them instead of the store. The count of parked polls is a debug
 * log line at every change ("parked N"), which the tests wait for.
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#ifndef CHATD_WAITER_H
#define CHATD_WAITER_H

#include <stdint.h>

#include "conn.h"
#include "event.h"

#define WAITER_MAX_TIMEOUT 60
#define WAITER_ROOM_MAX 32
#define WAITER_MAX_EVENTS 500 /* in one answer (docs/api.md) */

struct waiter_poll;

/*
 * Answer a parked poll with the n events of v, as their JSON pieces (n
 * may be 0), and the cursor for its next poll. Called once; the poll is
 * freed after. The pieces are the batch's, shared by every poll it
 * answers: they last only for the call.
 */
typedef void (*waiter_answer_fn)(
    struct conn *, const struct event_piece *, size_t, int64_t);

void waiter_init(int);
void waiter_park(
    struct conn *, int64_t, int64_t, const char *, int, waiter_answer_fn);
void waiter_news(const struct event_list *, int64_t);
void waiter_mark(int64_t);
void waiter_answer_all(void);
int  waiter_count(void);
int  waiter_has_session(int64_t);
int  waiter_recent_behind(int64_t, int64_t *);
void waiter_recent_catch_up(const struct event_list *, int64_t);
int  waiter_recent(
     int64_t, int64_t, const char *, int64_t, struct event_piece *, int64_t *);

#endif
