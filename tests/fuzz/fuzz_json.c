/*
 * fuzz_json: the JSON string encoder (src/json.c), which writes every
 * nick, room and text that anyone sent into every other client's answer.
 *
 * Properties, for any bytes: the output is one JSON string literal and
 * valid UTF-8; it holds no raw control character, no '<', '>' or '&' and
 * no U+2028/U+2029 (docs/api.md: safe to evaluate as JavaScript); and decoding
 * it gives back the input when the input is valid UTF-8, or the input
 * with U+FFFD for bad bytes otherwise (then it is no longer than that).
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#include <string.h>

#include "buf.h"
#include "fuzz.h"
#include "json.h"

static int
hex4(const char *p, unsigned *v)
{
	int i, d;

	*v = 0;
	for (i = 0; i < 4; i++) {
		if (p[i] >= '0' && p[i] <= '9')
			d = p[i] - '0';
		else if (p[i] >= 'a' && p[i] <= 'f')
			d = p[i] - 'a' + 10;
		else if (p[i] >= 'A' && p[i] <= 'F')
			d = p[i] - 'A' + 10;
		else
			return -1;
		*v = *v << 4 | (unsigned)d;
	}
	return 0;
}

/* Append code point cp as UTF-8, independently of src/utf8.c. */
static void
put_utf8(struct buf *b, unsigned cp)
{
	char o[4];

	if (cp < 0x80) {
		buf_addc(b, (char)cp);
	} else if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		buf_add(b, o, 2);
	} else if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		buf_add(b, o, 3);
	} else {
		o[0] = (char)(0xf0 | cp >> 18);
		o[1] = (char)(0x80 | (cp >> 12 & 0x3f));
		o[2] = (char)(0x80 | (cp >> 6 & 0x3f));
		o[3] = (char)(0x80 | (cp & 0x3f));
		buf_add(b, o, 4);
	}
}

/* Decode the JSON string literal s into out; -1 if it is not one. */
static int
decode_literal(const char *s, size_t len, struct buf *out)
{
	size_t	 i = 1;
	unsigned cp, lo;

	if (len < 2 || s[0] != '"' || s[len - 1] != '"')
		return -1;
	while (i < len - 1) {
		if (s[i] == '"')
			return -1;
		if (s[i] != '\\') {
			buf_addc(out, s[i++]);
			continue;
		}
		if (++i >= len - 1)
			return -1;
		switch (s[i]) {
		case '"':
		case '\\':
		case '/': buf_addc(out, s[i++]); continue;
		case 'b':
			buf_addc(out, '\b');
			i++;
			continue;
		case 'f':
			buf_addc(out, '\f');
			i++;
			continue;
		case 'n':
			buf_addc(out, '\n');
			i++;
			continue;
		case 'r':
			buf_addc(out, '\r');
			i++;
			continue;
		case 't':
			buf_addc(out, '\t');
			i++;
			continue;
		case 'u': break;
		default: return -1;
		}
		if (len - 1 - i < 5 || hex4(s + i + 1, &cp) == -1)
			return -1;
		i += 5;
		if (cp >= 0xd800 && cp <= 0xdbff) {
			if (len - 1 - i < 6 || s[i] != '\\' ||
			    s[i + 1] != 'u' || hex4(s + i + 2, &lo) == -1 ||
			    lo < 0xdc00 || lo > 0xdfff)
				return -1;
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			i += 6;
		} else if (cp >= 0xdc00 && cp <= 0xdfff)
			return -1;
		put_utf8(out, cp);
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf  out, back;
	const char *in = (const char *)data;
	size_t	    i;

	buf_init(&out);
	buf_init(&back);
	json_string(&out, in, size);
	FUZZ_CHECK(fuzz_utf8_valid((unsigned char *)out.data, out.len));
	for (i = 0; i < out.len; i++) {
		unsigned char c = (unsigned char)out.data[i];

		FUZZ_CHECK(c >= 0x20 && c != '<' && c != '>' && c != '&');
		FUZZ_CHECK(!(c == 0xe2 && i + 2 < out.len &&
		    (unsigned char)out.data[i + 1] == 0x80 &&
		    ((unsigned char)out.data[i + 2] == 0xa8 ||
			(unsigned char)out.data[i + 2] == 0xa9)));
	}
	FUZZ_CHECK(decode_literal(out.data, out.len, &back) == 0);
	FUZZ_CHECK(fuzz_utf8_valid((unsigned char *)back.data, back.len));
	if (fuzz_utf8_valid(data, size))
		FUZZ_CHECK(back.len == size &&
		    (size == 0 || memcmp(back.data, in, size) == 0));
	else
		FUZZ_CHECK(back.len <= 3 * size);
	buf_free(&back);
	buf_free(&out);
	return 0;
}
