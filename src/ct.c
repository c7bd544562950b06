/*
 * ct: constant-time comparison of secrets (ct.h).
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#include "ct.h"

/* Whether len bytes at a and b are the same, reading all of them. */
int
ct_equal(const void *a, const void *b, size_t len)
{
	const volatile unsigned char *x = a, *y = b;
	unsigned char		      diff = 0;
	size_t			      i;

	for (i = 0; i < len; i++)
		diff |= (unsigned char)(x[i] ^ y[i]);
	return diff == 0;
}
