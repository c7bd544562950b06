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

/*
 * A token is known by a 128-bit tag, two SipHash-2-4 values under two
 * keys: a hit costs no SHA-256, and no usable token stays in memory.
 */
struct token_tag {
	uint64_t a, b;
};

struct cache_entry {
	struct token_tag     tag;
	uint64_t	     ended;   /* store_sessions_ended() */
	int64_t		     version; /* watch_seen_version() */
	struct store_session s;
};

static struct cache_entry **slots;
static unsigned char	    key[2 * SIPHASH_KEY_LEN]; /* the tag's two */

/* Make the table and draw its keys; 0, or -1 if the kernel gave none. */
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

/* The tag of a token (SESSION_TOKEN_LEN bytes). */
static struct token_tag
tag_of(const char *token)
{
	struct token_tag t;

	t.a = siphash24(key, token, SESSION_TOKEN_LEN);
	t.b = siphash24(key + SIPHASH_KEY_LEN, token, SESSION_TOKEN_LEN);
	return t;
}

/* The slot of a tag: its first half, masked. */
static size_t
slot_of(const struct token_tag *t)
{
	return (size_t)(t->a & (CACHE_SLOTS - 1));
}

/* Copy the session of token into *out and return 1, if it is known live. */
int
session_cache_get(const struct store *st, const char *token, size_t len,
    struct store_session *out)
{
	struct cache_entry *e;
	struct token_tag    t;

	if (slots == NULL || len != SESSION_TOKEN_LEN)
		return 0;
	t = tag_of(token);
	if ((e = slots[slot_of(&t)]) == NULL ||
	    e->ended != store_sessions_ended(st) ||
	    e->version != watch_seen_version() ||
	    !ct_equal(&e->tag, &t, sizeof t))
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
	struct token_tag     t;

	if (len != SESSION_TOKEN_LEN || (slots == NULL && cache_init() == -1))
		return;
	t = tag_of(token);
	slot = &slots[slot_of(&t)];
	if (*slot == NULL)
		*slot = xmalloc(sizeof **slot);
	(*slot)->tag = t;
	(*slot)->ended = store_sessions_ended(st);
	(*slot)->version = watch_seen_version();
	(*slot)->s = *s;
}

/* Drop every entry and wipe the keys. */
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
	explicit_bzero(key, sizeof key);
}
