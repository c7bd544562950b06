/*
 * fuzz: what the fuzz targets share. Each target is one
 * LLVMFuzzerTestOneInput over a pure parser or encoder of src/; it
 * aborts when the code under test breaks a property that must hold for
 * every input, so that libFuzzer (configure --enable-fuzzing, make fuzz)
 * reports it, and replay.c (make check) replays the corpus of
 * tests/fuzz/corpus/ as regression tests.
 *
 * The checks here are written independently of src/ (a second UTF-8
 * validator, not utf8_decode), so that a bug there cannot hide itself.
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#ifndef CHATD_FUZZ_H
#define CHATD_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Abort with the failed property: libFuzzer keeps the input as a crash. */
#define FUZZ_CHECK(cond) \
	do { \
		if (!(cond)) { \
			fprintf(stderr, "%s:%d: property failed: %s\n", \
			    __FILE__, __LINE__, #cond); \
			abort(); \
		} \
	} while (0)

/*
 * The length of the well-formed UTF-8 character at s (len bytes left),
 * its code point into *cp; -1 if it is not one. Written from RFC 3629's
 * table 3-7 (no overlongs, no surrogates, nothing past U+10FFFF), not
 * from src/utf8.c.
 */
static inline int
fuzz_utf8_next(const unsigned char *s, size_t len, uint32_t *cp)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t	      n, k;

	if (len == 0)
		return -1;
	if (s[0] <= 0x7f) {
		*cp = s[0];
		return 1;
	} else if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 1;
		*cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 2;
		*cp = s[0] & 0x0f;
		if (s[0] == 0xe0)
			lo = 0xa0;
		if (s[0] == 0xed)
			hi = 0x9f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 3;
		*cp = s[0] & 0x07;
		if (s[0] == 0xf0)
			lo = 0x90;
		if (s[0] == 0xf4)
			hi = 0x8f;
	} else
		return -1;
	if (len - 1 < n || s[1] < lo || s[1] > hi)
		return -1;
	for (k = 1; k <= n; k++) {
		if (s[k] < 0x80 || s[k] > 0xbf)
			return -1;
		*cp = *cp << 6 | (s[k] & 0x3f);
	}
	return (int)n + 1;
}

/* Is s[0..len) well-formed UTF-8? */
static inline int
fuzz_utf8_valid(const unsigned char *s, size_t len)
{
	size_t	 i = 0;
	uint32_t cp;
	int	 k;

	while (i < len) {
		if ((k = fuzz_utf8_next(s + i, len - i, &cp)) < 0)
			return 0;
		i += (size_t)k;
	}
	return 1;
}

#endif
