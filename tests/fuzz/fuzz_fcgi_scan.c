/*
 * fuzz_fcgi_scan: the FastCGI request scanner (src/fcgi_scan.c), which
 * reads the bytes any peer on the socket sends before libfcgi may.
 *
 * The first input byte chooses where to split the rest in two, the rest
 * is the bytes. Properties: the verdict and the length agree with a
 * second scanner written here from the grammar of fcgi_scan.h (a walk
 * over whole records, not a state machine); they are the same whether
 * the bytes come at once, in two pieces, or one at a time; a WHOLE
 * request ends inside the input, and its bytes alone are WHOLE at the
 * same length while any shorter prefix is MORE; a BAD verdict stays BAD
 * whatever follows.
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#include <string.h>

#include "fcgi_scan.h"
#include "fuzz.h"

/* The grammar, walked record by record: a verdict and a length. */
static enum fcgi_scan_result
oracle(const uint8_t *p, size_t len, size_t *end)
{
	size_t i = 0, n, pad, params = 0;
	int    stage = 0, id = 0, rid, type;

	for (;;) {
		if (len - i < 8)
			return FCGI_SCAN_MORE;
		type = p[i + 1];
		rid = p[i + 2] << 8 | p[i + 3];
		n = (size_t)(p[i + 4] << 8 | p[i + 5]);
		pad = p[i + 6];
		if (p[i] != 1)
			return FCGI_SCAN_BAD;
		if (stage == 0) {
			if (type != 1 || rid == 0 || n != 8 || pad != 0)
				return FCGI_SCAN_BAD;
			id = rid;
		} else if (rid != id || type != (stage == 1 ? 4 : 5) ||
		    (n == 0 && pad != 0))
			return FCGI_SCAN_BAD;
		if (stage == 1 && (params += n) > FCGI_SCAN_PARAMS_MAX)
			return FCGI_SCAN_BAD;
		i += 8;
		if (stage > 0 && n == 0 && ++stage == 3) {
			*end = i;
			return FCGI_SCAN_WHOLE;
		}
		if (stage == 0)
			stage = 1;
		if (len - i < n + pad)
			return FCGI_SCAN_MORE;
		i += n + pad;
	}
}

/* Scan the bytes in pieces of at most step (0: at once). */
static enum fcgi_scan_result
scan_in(const uint8_t *p, size_t len, size_t split, size_t step, size_t *end)
{
	struct fcgi_scan      s;
	enum fcgi_scan_result r = FCGI_SCAN_MORE;
	size_t		      i = 0, n, used;

	fcgi_scan_init(&s);
	while (i < len || i == 0) {
		n = step ? step : (i < split ? split - i : len - i);
		if (n > len - i)
			n = len - i;
		r = fcgi_scan(&s, p + i, n, &used);
		FUZZ_CHECK(used <= n);
		FUZZ_CHECK(r != FCGI_SCAN_MORE || used == n);
		i += used;
		if (r != FCGI_SCAN_MORE || len == 0)
			break;
	}
	FUZZ_CHECK(s.total == i);
	*end = i;
	return r;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum fcgi_scan_result want, r;
	const uint8_t	     *p;
	size_t		      len, split, want_end = 0, end, end2;

	if (size < 1)
		return 0;
	p = data + 1;
	len = size - 1;
	split = len ? data[0] % (len + 1) : 0;
	want = oracle(p, len, &want_end);
	r = scan_in(p, len, 0, 0, &end);
	FUZZ_CHECK(r == want);
	if (r == FCGI_SCAN_WHOLE)
		FUZZ_CHECK(end == want_end && end <= len);
	FUZZ_CHECK(scan_in(p, len, split, 0, &end2) == r);
	FUZZ_CHECK(r == FCGI_SCAN_BAD || end2 == end);
	if (len <= 4096) /* a byte at a time: quadratic nowhere, but slow */
		FUZZ_CHECK(scan_in(p, len, 0, 1, &end2) == r &&
		    (r == FCGI_SCAN_BAD || end2 == end));
	if (r == FCGI_SCAN_WHOLE) {
		FUZZ_CHECK(scan_in(p, end, 0, 0, &end2) == FCGI_SCAN_WHOLE &&
		    end2 == end);
		FUZZ_CHECK(scan_in(p, end - 1, 0, 0, &end2) == FCGI_SCAN_MORE);
	}
	/* What is BAD in a prefix is BAD in the whole. */
	if (scan_in(p, split, 0, 0, &end2) == FCGI_SCAN_BAD)
		FUZZ_CHECK(r == FCGI_SCAN_BAD);
	return 0;
}
