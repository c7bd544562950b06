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
 * Is s[0..len) well-formed UTF-8 (RFC 3629 table 3-7: no overlongs, no
 * surrogates, nothing past U+10FFFF)? Written from the RFC's table, not
 * from src/utf8.c.
 */
static inline int
fuzz_utf8_valid(const unsigned char *s, size_t len)
{
	size_t	      i = 0, n, k;
	unsigned char lo, hi;

	while (i < len) {
		lo = 0x80;
		hi = 0xbf;
		if (s[i] <= 0x7f) {
			i++;
			continue;
		} else if (s[i] >= 0xc2 && s[i] <= 0xdf)
			n = 1;
		else if (s[i] >= 0xe0 && s[i] <= 0xef) {
			n = 2;
			if (s[i] == 0xe0)
				lo = 0xa0;
			if (s[i] == 0xed)
				hi = 0x9f;
		} else if (s[i] >= 0xf0 && s[i] <= 0xf4) {
			n = 3;
			if (s[i] == 0xf0)
				lo = 0x90;
			if (s[i] == 0xf4)
				hi = 0x8f;
		} else
			return 0;
		if (len - i - 1 < n)
			return 0;
		if (s[i + 1] < lo || s[i + 1] > hi)
			return 0;
		for (k = 2; k <= n; k++)
			if (s[i + k] < 0x80 || s[i + k] > 0xbf)
				return 0;
		i += n + 1;
	}
	return 1;
}

#endif
