/*
 * session_cache: live sessions looked up lately (see session_cache.h).
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#include <stdlib.h>
#include <string.h>

#include "session.h"
#include "session_cache.h"
#include "watch.h"
#include "xmalloc.h"

#define CACHE_SLOTS (1 << 15) /* a pointer each; entries on use */

struct cache_entry {
	char		     hash[SESSION_HASH_LEN + 1];
	uint64_t	     ended;   /* store_sessions_ended() */
	int64_t		     version; /* watch_seen_version() */
	struct store_session s;
};

static struct cache_entry **slots;

/* The slot of a hash: its first hex digits, as a number. */
static size_t
slot_of(const char *hash)
{
	size_t v = 0;
	int    i;

	for (i = 0; i < 4; i++) {
		char c = hash[i];
		v = v << 4 | (size_t)(c <= '9' ? c - '0' : c - 'a' + 10);
	}
	return v & (CACHE_SLOTS - 1);
}

/* Copy the session of hash into *out and return 1, if it is known live. */
int
session_cache_get(
    const struct store *st, const char *hash, struct store_session *out)
{
	struct cache_entry *e;

	if (slots == NULL || (e = slots[slot_of(hash)]) == NULL ||
	    e->ended != store_sessions_ended(st) ||
	    e->version != watch_seen_version() || strcmp(e->hash, hash) != 0)
		return 0;
	*out = e->s;
	return 1;
}

/* Remember s, just read from the store (or refreshed), as hash's session. */
void
session_cache_put(
    const struct store *st, const char *hash, const struct store_session *s)
{
	struct cache_entry **slot;

	if (slots == NULL)
		slots = xcalloc(CACHE_SLOTS, sizeof *slots);
	slot = &slots[slot_of(hash)];
	if (*slot == NULL)
		*slot = xmalloc(sizeof **slot);
	memcpy((*slot)->hash, hash, SESSION_HASH_LEN);
	(*slot)->hash[SESSION_HASH_LEN] = '\0';
	(*slot)->ended = store_sessions_ended(st);
	(*slot)->version = watch_seen_version();
	(*slot)->s = *s;
}

void
session_cache_free(void)
{
	size_t i;

	if (slots == NULL)
		return;
	for (i = 0; i < CACHE_SLOTS; i++)
		free(slots[i]);
	free(slots);
	slots = NULL;
}
