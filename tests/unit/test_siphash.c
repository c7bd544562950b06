/*
 * test_siphash: SipHash-2-4 against the vectors of its paper and of the
 * authors' reference code (key 00..0f, message 00..len-1), and ct_equal,
 * the constant-time compare the session cache uses on a hit.
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#include <stdint.h>

#include "ct.h"
#include "siphash.h"
#include "tap.h"

/* The reference vectors for messages of 0 to 8 bytes, and 15 (paper). */
static const struct {
	size_t	 len;
	uint64_t want;
} vectors[] = {
	{ 0, 0x726fdb47dd0e0e31ULL },
	{ 1, 0x74f839c593dc67fdULL },
	{ 2, 0x0d6c8009d9a94f5aULL },
	{ 3, 0x85676696d7fb7e2dULL },
	{ 8, 0x93f5f5799a932462ULL },
	{ 15, 0xa129ca6149be45e5ULL },
};

int
main(void)
{
	unsigned char key[SIPHASH_KEY_LEN], msg[64];
	char	      a[33], b[33];
	size_t	      i;

	for (i = 0; i < sizeof key; i++)
		key[i] = (unsigned char)i;
	for (i = 0; i < sizeof msg; i++)
		msg[i] = (unsigned char)i;
	for (i = 0; i < sizeof vectors / sizeof vectors[0]; i++)
		ok(siphash24(key, msg, vectors[i].len) == vectors[i].want,
		    "siphash24 of %zu bytes", vectors[i].len);
	key[0] ^= 1;
	ok(siphash24(key, msg, 15) != 0xa129ca6149be45e5ULL,
	    "another key, another hash");

	memcpy(a, "abcdefghijklmnopqrstuvwxyz012345", sizeof a);
	memcpy(b, a, sizeof b);
	ok(ct_equal(a, b, 32), "ct_equal: same bytes");
	ok(ct_equal(a, b, 0), "ct_equal: nothing to compare");
	b[31] = '6';
	ok(!ct_equal(a, b, 32), "ct_equal: the last byte differs");
	ok(ct_equal(a, b, 31), "ct_equal: only the bytes asked for");
	b[31] = a[31];
	b[0] = 'A';
	ok(!ct_equal(a, b, 32), "ct_equal: the first byte differs");
	b[0] = a[0];
	a[10] = '\0';
	ok(!ct_equal(a, b, 32), "ct_equal: a NUL inside does not stop it");
	b[10] = '\0';
	b[20] ^= 0x80;
	ok(!ct_equal(a, b, 32), "ct_equal: a byte after a NUL differs");
	return tap_done();
}
