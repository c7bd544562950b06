/*
 * session: tokens, authentication, CSRF and the idle reaper (session.h).
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "away.h"
#include "ct.h"
#include "log.h"
#include "loop.h"
#include "reply.h"
#include "session.h"
#include "session_cache.h"
#include "sha256.h"
#include "watch.h"
#include "xmalloc.h"

static struct app	*reaper_app;
static struct loop_timer reaper_timer;

/*
 * Sessions seen since the last flush, written in one transaction a second
 * (an open-addressing set of session ids; 0 marks a free slot).
 */
static int64_t		*touched;
static size_t		 touched_n, touched_cap;
static struct loop_timer touch_timer;

/* Fill buf with len bytes from the kernel's random source; -1 if not. */
static int
random_bytes(unsigned char *buf, size_t len)
{
	ssize_t n;
	size_t	got = 0;

	while (got < len) {
		n = getrandom(buf + got, len - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

static void
hex_encode(const unsigned char *in, size_t len, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t		  i;

	for (i = 0; i < len; i++) {
		out[2 * i] = hex[in[i] >> 4];
		out[2 * i + 1] = hex[in[i] & 15];
	}
	out[2 * len] = '\0';
}

/* A new session token, its hash and a CSRF token; -1 without entropy. */
int
session_new_tokens(struct session_tokens *t)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "abcdefghijklmnopqrstuvwxyz0123456789-_";
	unsigned char	  raw[24], csrf[16];
	size_t		  i;
	uint32_t	  v;

	if (random_bytes(raw, sizeof raw) == -1 ||
	    random_bytes(csrf, sizeof csrf) == -1)
		return -1;
	for (i = 0; i < sizeof raw / 3; i++) {
		v = (uint32_t)raw[3 * i] << 16 | (uint32_t)raw[3 * i + 1] << 8 |
		    raw[3 * i + 2];
		t->token[4 * i] = b64[v >> 18];
		t->token[4 * i + 1] = b64[(v >> 12) & 63];
		t->token[4 * i + 2] = b64[(v >> 6) & 63];
		t->token[4 * i + 3] = b64[v & 63];
	}
	t->token[SESSION_TOKEN_LEN] = '\0';
	session_hash(t->token, SESSION_TOKEN_LEN, t->hash);
	hex_encode(csrf, sizeof csrf, t->csrf);
	return 0;
}

/* The hex SHA-256 of a token: what the database keeps. */
void
session_hash(const char *token, size_t len, char out[SESSION_HASH_LEN + 1])
{
	uint8_t digest[SHA256_LEN];

	sha256(token, len, digest);
	hex_encode(digest, sizeof digest, out);
}

/* How stale a session's last-seen time may get: a few seconds at most. */
static int64_t
touch_interval(const struct app *a)
{
	int64_t ms = a->conf->idle_timeout * 1000LL / 4;

	return ms > 5000 ? 5000 : ms;
}

/* Add sid to the set of sessions to refresh at the next flush. */
static void
touch_later(int64_t sid)
{
	int64_t *old;
	size_t	 i, old_cap;

	if (touched_n * 2 >= touched_cap) {
		old = touched;
		old_cap = touched_cap;
		touched_cap = old_cap ? old_cap * 2 : 1024;
		touched = xcalloc(touched_cap, sizeof *touched);
		touched_n = 0;
		for (i = 0; i < old_cap; i++)
			if (old[i] != 0)
				touch_later(old[i]);
		free(old);
	}
	i = (size_t)((uint64_t)sid * 0x9e3779b97f4a7c15ULL) & (touched_cap - 1);
	while (touched[i] != 0 && touched[i] != sid)
		i = (i + 1) & (touched_cap - 1);
	if (touched[i] == 0) {
		touched[i] = sid;
		touched_n++;
	}
}

/* Write the touched sessions' last-seen time, all in one commit. */
static void
touch_flush(void)
{
	int64_t *sids;
	size_t	 i, n = 0;

	if (touched_n == 0)
		return;
	sids = xmalloc(touched_n * sizeof *sids);
	for (i = 0; i < touched_cap; i++)
		if (touched[i] != 0)
			sids[n++] = touched[i];
	/* On failure (the store is busy) they wait for the next flush. */
	if (store_touch_batch(reaper_app->store, sids, n, loop_wall_ms()) ==
	    STORE_OK) {
		memset(touched, 0, touched_cap * sizeof *touched);
		touched_n = 0;
	}
	free(sids);
}

static void
touch_tick(struct loop_timer *t)
{
	touch_flush();
	loop_timer_at(t, loop_now() + touch_interval(reaper_app) / 2 + 1);
}

/* Does s look like one of our tokens (base64url, the right length)? */
static int
token_well_formed(const char *s, size_t len)
{
	size_t i;

	if (len != SESSION_TOKEN_LEN)
		return 0;
	for (i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			(c >= '0' && c <= '9') || c == '-' || c == '_'))
			return 0;
	}
	return 1;
}

/*
 * Find the caller's live session (cookie first, then header), refresh its
 * last-seen time, and return 0; or answer 401/503 and return -1. Reads
 * may take it from the session cache; writes (cached 0) read the store.
 */
static int
find_session(
    struct app *app, struct conn *c, struct store_session *s, int cached)
{
	struct str	      tok = { NULL, 0 };
	char		      hash[SESSION_HASH_LEN + 1];
	enum store_result     r;
	int64_t		      now;
	int		      changed = 0;
	const struct request *req = &c->req;

	if (!request_cookie(req->cookie, "chat_session", &tok) &&
	    req->session_header != NULL) {
		tok.p = req->session_header;
		tok.len = strlen(req->session_header);
	}
	if (tok.p == NULL || !token_well_formed(tok.p, tok.len)) {
		reply_error(c, API_NO_SESSION, "Log in first.", NULL);
		return -1;
	}
	/* A hit costs no SHA-256: the cache is keyed by the raw token. */
	if (!cached || !session_cache_get(app->store, tok.p, tok.len, s)) {
		session_hash(tok.p, tok.len, hash);
		r = store_session_find(app->store, hash, s);
		if (r == STORE_NOT_FOUND) {
			reply_error(c, API_NO_SESSION,
			    "The session has ended: log in again.", NULL);
			return -1;
		}
		if (r != STORE_OK) {
			reply_error(
			    c, API_UNAVAILABLE, "The store is busy.", NULL);
			return -1;
		}
		changed = 1;
	}
	away_seen(s->id);
	/* Refresh coarsely: a poll should not cost a write every time. */
	now = loop_wall_ms();
	if (now - s->last_seen_ms >= touch_interval(app)) {
		touch_later(s->id);
		s->last_seen_ms = now;
		changed = 1;
	}
	if (changed)
		session_cache_put(app->store, tok.p, tok.len, s);
	c->req.nick = pool_strndup(c->req.pool, s->nick, strlen(s->nick));
	return 0;
}

/* The caller's session, for a request that only reads. */
int
session_require(struct app *app, struct conn *c, struct store_session *s)
{
	return find_session(app, c, s, 1);
}

/* Compare without an early exit, so timing tells nothing of the token. */
static int
same_secret(const char *a, size_t alen, const char *b, size_t blen)
{
	return alen == blen && ct_equal(a, b, alen);
}

/*
 * The caller's session, from the cache only if the caller checks again
 * under the write lock (SESSION_CACHED), then its CSRF token (header or
 * form field csrf).
 */
int
session_require_csrf(struct app *app, struct conn *c, struct store_session *s,
    enum session_source from)
{
	const struct str *field;
	const char	 *got = NULL;
	size_t		  len = 0;

	if (find_session(app, c, s, from == SESSION_CACHED) == -1)
		return -1;
	if (c->req.csrf_header != NULL) {
		got = c->req.csrf_header;
		len = strlen(got);
	} else if ((field = request_arg(&c->req, "csrf")) != NULL) {
		got = field->p;
		len = field->len;
	}
	if (got == NULL || !same_secret(got, len, s->csrf, strlen(s->csrf))) {
		reply_error(c, API_BAD_CSRF,
		    "Missing or wrong CSRF token (X-CSRF-Token).", NULL);
		return -1;
	}
	return 0;
}

/* End idle sessions; runs every second in every process. */
static void
reaper_tick(struct loop_timer *t)
{
	int64_t idle_ms = reaper_app->conf->idle_timeout * 1000LL;
	int	ended = 0;

	if (store_reap_idle(reaper_app->store, loop_wall_ms(), idle_ms,
		&ended) == STORE_OK &&
	    ended > 0) {
		log_info(
		    "ended %d idle session%s", ended, ended > 1 ? "s" : "");
		watch_wrote();
	}
	loop_timer_at(t, loop_now() + 1000);
}

/* Start the idle reaper and the flushing of last-seen times. */
void
session_reaper_start(struct app *app)
{
	reaper_app = app;
	loop_timer_init(&reaper_timer, reaper_tick);
	loop_timer_at(&reaper_timer, loop_now() + 1000);
	loop_timer_init(&touch_timer, touch_tick);
	loop_timer_at(&touch_timer, loop_now() + touch_interval(app) / 2 + 1);
}

/* At exit: write the last-seen times still pending. */
void
session_stop(void)
{
	loop_timer_cancel(&reaper_timer);
	loop_timer_cancel(&touch_timer);
	touch_flush();
	away_stop();
	session_cache_free();
}
