/*
 * session_cache: the live sessions this process has looked up lately,
 * so that a poll, which comes back after every answer, does not cost a
 * read transaction (two file locks and a b-tree lookup) each time.
 *
 * Reads trust it (polls, history, the users list), and so does a send,
 * because its batch checks under the write lock that the session is
 * still live before it writes. Logout reads the session from the store.
 *
 * An entry is only as good as what could not have changed since it was
 * read. A session's token, nick and CSRF token never change; the one
 * thing that does is its end. So every entry is forgotten when this
 * process's store ends a session (logout, the idle reaper:
 * store_sessions_ended moved) and when another process or the sqlite3
 * shell commits anything (the data_version the watcher saw moved).
 * The latter is seen within milliseconds (inotify) and at the latest at
 * the next --watch-interval check: a session ended elsewhere may get
 * that long a poll more, the same as a poll that was already waiting when
 * it ended.
 *
 * The table is direct-mapped on SipHash-2-4 of the raw token, keyed by
 * 128 bits from getrandom drawn when the table is made, so a hit costs
 * no SHA-256 (only a miss hashes the token, for the store, which keeps
 * nothing but the hash). Without the key no one can choose tokens that
 * land in one slot; a collision only costs a lookup in the store. An
 * entry keeps no token: it keeps a 128-bit tag of it (the slot's hash and
 * a second SipHash-2-4 under a key of its own), compared in constant time
 * (ct_equal), so that neither a core dump nor a read of this process's
 * memory yields a token that logs in. Callers pass only well-formed tokens of
 * SESSION_TOKEN_LEN bytes; anything else is never cached. If the kernel
 * gives no key the cache stays empty and every lookup reads the store.
 * The table holds at most CACHE_SLOTS (32,768) entries.
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#ifndef CHATD_SESSION_CACHE_H
#define CHATD_SESSION_CACHE_H

#include "store.h"

int session_cache_get(
    const struct store *, const char *, size_t, struct store_session *);
void session_cache_put(
    const struct store *, const char *, size_t, const struct store_session *);
void session_cache_free(void);

#endif
