/*
 * nick: what makes two nicks one nick, and a nick that may pass for no
 * other, by ICU (Unicode's normalization, case folding and the UTS #39
 * confusables and restriction levels).
 *
 * Pure functions over bytes, like validate.h (which calls them): the unit
 * tests and the fuzz target call them without a server. The ICU checker
 * they share is made at the first call and kept for the process.
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#ifndef CHATD_NICK_H
#define CHATD_NICK_H

#include <stddef.h>

#include "buf.h"

/* The two keys under which live nicks are unique (store.c, sql/006). */
struct nick_keys {
	struct buf skeleton;	  /* as written in lower case */
	struct buf skeleton_caps; /* as written in capitals */
};

int	    nick_nfc(const char *, size_t, struct buf *);
int	    nick_fold(const char *, size_t, struct buf *);
int	    nick_keys(const char *, size_t, struct nick_keys *);
void	    nick_keys_init(struct nick_keys *);
void	    nick_keys_free(struct nick_keys *);
const char *nick_mixed_scripts(const char *, size_t);
int	    nick_is_system(const struct nick_keys *);

#endif
