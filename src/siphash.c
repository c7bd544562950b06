/*
 * siphash: SipHash-2-4 of a byte string under a 128-bit key (siphash.h),
 * written from the paper; the unit test checks its vectors.
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#include "siphash.h"

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

/* A little-endian 64-bit word from 8 bytes. */
static uint64_t
le64(const unsigned char *p)
{
	return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
	    (uint64_t)p[3] << 24 | (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 |
	    (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;
}

/* One SipRound on the state v. */
static void
sipround(uint64_t v[4])
{
	v[0] += v[1];
	v[1] = ROTL(v[1], 13);
	v[1] ^= v[0];
	v[0] = ROTL(v[0], 32);
	v[2] += v[3];
	v[3] = ROTL(v[3], 16);
	v[3] ^= v[2];
	v[0] += v[3];
	v[3] = ROTL(v[3], 21);
	v[3] ^= v[0];
	v[2] += v[1];
	v[1] = ROTL(v[1], 17);
	v[1] ^= v[2];
	v[2] = ROTL(v[2], 32);
}

/* SipHash-2-4 of len bytes at in, under key. */
uint64_t
siphash24(const unsigned char key[SIPHASH_KEY_LEN], const void *in, size_t len)
{
	const unsigned char *p = in;
	uint64_t	     k0 = le64(key), k1 = le64(key + 8), m, b;
	uint64_t	     v[4];
	size_t		     i, left = len;

	v[0] = k0 ^ 0x736f6d6570736575ULL;
	v[1] = k1 ^ 0x646f72616e646f6dULL;
	v[2] = k0 ^ 0x6c7967656e657261ULL;
	v[3] = k1 ^ 0x7465646279746573ULL;
	for (; left >= 8; p += 8, left -= 8) {
		m = le64(p);
		v[3] ^= m;
		sipround(v);
		sipround(v);
		v[0] ^= m;
	}
	b = (uint64_t)len << 56;
	for (i = 0; i < left; i++)
		b |= (uint64_t)p[i] << (8 * i);
	v[3] ^= b;
	sipround(v);
	sipround(v);
	v[0] ^= b;
	v[2] ^= 0xff;
	for (i = 0; i < 4; i++)
		sipround(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}
