/*
 * fuzz_form: query strings, urlencoded forms, cookies and integer
 * arguments (src/request.c), the first things an attacker's bytes reach.
 *
 * The first byte of the input picks the parser, the rest is its input.
 * Properties: a decoded form holds at most REQUEST_MAX_PARAMS distinct
 * names, no value is longer than its encoding, and encoding every byte
 * again as %XX decodes to the same pairs; a cookie found lies inside
 * the header; an integer accepted is in range and prints back to the
 * digits it came from.
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fuzz.h"
#include "request.h"

/* Encode every byte of s as %XX: the form that must decode back to s. */
static void
encode_all(struct buf *b, const struct str *s)
{
	size_t i;

	for (i = 0; i < s->len; i++)
		buf_printf(b, "%%%02X", (unsigned char)s->p[i]);
}

static void
check_pairs(const char *s, size_t len)
{
	struct pool  *pool = pool_new();
	struct params ps, again;
	struct buf    b;
	size_t	      i, j;

	if (request_decode_pairs(pool, s, len, &ps) != NULL) {
		pool_free(pool);
		return;
	}
	FUZZ_CHECK(ps.n <= REQUEST_MAX_PARAMS);
	buf_init(&b);
	for (i = 0; i < ps.n; i++) {
		FUZZ_CHECK(ps.v[i].name.len <= len);
		FUZZ_CHECK(ps.v[i].value.len <= len);
		for (j = 0; j < i; j++)
			FUZZ_CHECK(ps.v[i].name.len != ps.v[j].name.len ||
			    memcmp(ps.v[i].name.p, ps.v[j].name.p,
				ps.v[i].name.len) != 0);
		if (ps.v[i].name.len == 0)
			continue; /* "=x" cannot be written back */
		if (b.len > 0)
			buf_addc(&b, '&');
		encode_all(&b, &ps.v[i].name);
		buf_addc(&b, '=');
		encode_all(&b, &ps.v[i].value);
	}
	FUZZ_CHECK(request_decode_pairs(
		       pool, b.data ? b.data : "", b.len, &again) == NULL);
	for (i = 0, j = 0; i < ps.n; i++) {
		if (ps.v[i].name.len == 0)
			continue;
		FUZZ_CHECK(j < again.n);
		FUZZ_CHECK(again.v[j].name.len == ps.v[i].name.len &&
		    memcmp(again.v[j].name.p, ps.v[i].name.p,
			ps.v[i].name.len) == 0);
		FUZZ_CHECK(again.v[j].value.len == ps.v[i].value.len &&
		    memcmp(again.v[j].value.p, ps.v[i].value.p,
			ps.v[i].value.len) == 0);
		j++;
	}
	FUZZ_CHECK(j == again.n);
	buf_free(&b);
	pool_free(pool);
}

static void
check_cookie(const char *s, size_t len)
{
	char	  *header;
	struct str v;

	/* A FastCGI param is a C string: the header ends at a NUL. */
	if ((header = malloc(len + 1)) == NULL)
		abort();
	memcpy(header, s, len);
	header[len] = '\0';
	if (request_cookie(header, "chat_session", &v)) {
		FUZZ_CHECK(v.p > header + strlen("chat_session"));
		FUZZ_CHECK(v.p + v.len <= header + strlen(header));
		FUZZ_CHECK(memcmp(v.p - 13, "chat_session=", 13) == 0);
		FUZZ_CHECK(memchr(v.p, ';', v.len) == NULL);
	}
	free(header);
}

static void
check_int(const char *s, size_t len)
{
	struct str  in = { s, len };
	long long   v, min = -1000000, max = INT64_MAX;
	char	    back[32];
	const char *digits = s, *printed = back;
	size_t	    n = len;
	int	    neg;

	if (request_parse_int(&in, min, max, &v) != 0)
		return;
	FUZZ_CHECK(v >= min && v <= max);
	/* Leading zeros and "-0" are accepted; the digits are the same. */
	neg = s[0] == '-';
	digits += neg;
	n -= (size_t)neg;
	while (n > 1 && digits[0] == '0') {
		digits++;
		n--;
	}
	snprintf(back, sizeof back, "%lld", v);
	if (back[0] == '-')
		printed++;
	FUZZ_CHECK(strlen(printed) == n && memcmp(printed, digits, n) == 0);
	FUZZ_CHECK((v < 0) == (neg && v != 0));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data + 1;

	if (size == 0)
		return 0;
	switch (data[0] % 3) {
	case 0: check_pairs(s, size - 1); break;
	case 1: check_cookie(s, size - 1); break;
	default: check_int(s, size - 1); break;
	}
	return 0;
}
