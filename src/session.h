/*
 * session: who is asking. Tokens, CSRF, and the end of idle sessions.
 *
 * A session token is 192 bits from the kernel's random source, given to
 * the client once at login (cookie chat_session, or the header
 * X-Chat-Session for clients without cookies); the database keeps only
 * its SHA-256. Each POST but login must also carry the session's CSRF
 * token. A request refreshes the session's last-seen time at most every
 * few seconds, and those refreshes are written together, one commit for
 * all the sessions seen in the last moment, so that ten thousand polls
 * do not turn into ten thousand writes; the reaper ends sessions idle
 * past --idle-timeout with a "timeout" leave.
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#ifndef CHATD_SESSION_H
#define CHATD_SESSION_H

#include "app.h"
#include "conn.h"
#include "store.h"

#define SESSION_TOKEN_LEN 32 /* base64url of 24 random bytes */
#define SESSION_HASH_LEN 64  /* hex SHA-256 */
#define SESSION_CSRF_LEN 32  /* hex of 16 random bytes */

struct session_tokens {
	char token[SESSION_TOKEN_LEN + 1];
	char hash[SESSION_HASH_LEN + 1];
	char csrf[SESSION_CSRF_LEN + 1];
};

int  session_new_tokens(struct session_tokens *);
void session_hash(const char *, size_t, char[SESSION_HASH_LEN + 1]);
int  session_require(struct app *, struct conn *, struct store_session *);
/* Where session_require_csrf may find the session. */
enum session_source {
	SESSION_CACHED, /* the caller checks it again when it writes */
	SESSION_STORE	/* the store, now */
};

int session_require_csrf(
    struct app *, struct conn *, struct store_session *, enum session_source);
void session_reaper_start(struct app *);
void session_stop(void);

#endif
