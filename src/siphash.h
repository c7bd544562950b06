/*
 * siphash: SipHash-2-4 (Aumasson and Bernstein, 2012), a fast hash keyed
 * by a 128-bit secret. Whoever does not know the key cannot choose
 * inputs that collide, so a table indexed by it cannot be aimed at.
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#ifndef CHATD_SIPHASH_H
#define CHATD_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

#define SIPHASH_KEY_LEN 16

uint64_t siphash24(const unsigned char[SIPHASH_KEY_LEN], const void *, size_t);

#endif
