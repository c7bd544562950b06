/*
 * session_cache: live sessions looked up lately (see session_cache.h).
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "ct.h"
#include "session.h"
#include "session_cache.h"
#include "siphash.h"
#include "watch.h"
#include "xmalloc.h"

#define CACHE_SLOTS (1 << 15) /* a pointer each; entries on use */

struct cache_entry {
	char		     token[SESSION_TOKEN_LEN]; /* raw: memory only */
	uint64_t	     ended;   /* store_sessions_ended() */
	int64_t		     version; /* watch_seen_version() */
	struct store_session s;
};

static struct cache_entry **slots;
static unsigned char	    key[SIPHASH_KEY_LEN];

/* Make the table and draw its key; 0, or -1 if the kernel gave no key. */
static int
cache_init(void)
{
	ssize_t n;
	size_t	got = 0;

	while (got < sizeof key) {
		n = getrandom(key + got, sizeof key - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		got += (size_t)n;
	}
	slots = xcalloc(CACHE_SLOTS, sizeof *slots);
	return 0;
}

/* The slot of a token: its keyed hash, masked. */
static size_t
slot_of(const char *token)
{
	return (size_t)(siphash24(key, token, SESSION_TOKEN_LEN) &
	    (CACHE_SLOTS - 1));
}

/* Copy the session of token into *out and return 1, if it is known live. */
int
session_cache_get(const struct store *st, const char *token, size_t len,
    struct store_session *out)
{
	struct cache_entry *e;

	if (slots == NULL || len != SESSION_TOKEN_LEN ||
	    (e = slots[slot_of(token)]) == NULL ||
	    e->ended != store_sessions_ended(st) ||
	    e->version != watch_seen_version() ||
	    !ct_equal(e->token, token, SESSION_TOKEN_LEN))
		return 0;
	*out = e->s;
	return 1;
}

/* Remember s, just read from the store (or refreshed), as token's session. */
void
session_cache_put(const struct store *st, const char *token, size_t len,
    const struct store_session *s)
{
	struct cache_entry **slot;

	if (len != SESSION_TOKEN_LEN || (slots == NULL && cache_init() == -1))
		return;
	slot = &slots[slot_of(token)];
	if (*slot == NULL)
		*slot = xmalloc(sizeof **slot);
	memcpy((*slot)->token, token, SESSION_TOKEN_LEN);
	(*slot)->ended = store_sessions_ended(st);
	(*slot)->version = watch_seen_version();
	(*slot)->s = *s;
}

/* Drop every entry, wiping the tokens they kept, and the key. */
void
session_cache_free(void)
{
	size_t i;

	if (slots == NULL)
		return;
	for (i = 0; i < CACHE_SLOTS; i++) {
		if (slots[i] != NULL)
			explicit_bzero(slots[i], sizeof *slots[i]);
		free(slots[i]);
	}
	free(slots);
	slots = NULL;
	explicit_bzero(key, sizeof key);
}
