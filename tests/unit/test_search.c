/*
 * Unit tests of search.c: a person's words as an FTS5 expression, never
 * as FTS5 syntax.
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#include "search.h"
#include "tap.h"

/* Check that q (len bytes) is taken and gives want. */
static void
expr_is(const char *q, size_t len, const char *want, const char *name)
{
	struct buf  out;
	const char *why;

	buf_init(&out);
	why = search_expr(q, len, &out);
	ok(why == NULL, "%s: taken", name);
	ok_bytes(out.data, out.len, want, name);
	buf_free(&out);
}

/* Check that q (len bytes) is refused. */
static void
refused(const char *q, size_t len, const char *name)
{
	struct buf out;

	buf_init(&out);
	ok(search_expr(q, len, &out) != NULL, "%s: refused", name);
	buf_free(&out);
}

int
main(void)
{
	char	   long_q[SEARCH_MAX_CHARS * 2 + 2];
	char	   want[SEARCH_MAX_CHARS + 3];
	struct buf out;
	int	   i;

	expr_is("hello", 5, "\"hello\"", "one word");
	expr_is("  quick \t brown\nfox ", 20, "\"quick\" \"brown\" \"fox\"",
	    "words, white space around and between");
	expr_is("a OR b", 6, "\"a\" \"OR\" \"b\"", "OR is a word");
	expr_is("NEAR(a b)", 9, "\"NEAR(a\" \"b)\"", "NEAR( is a word");
	expr_is("\"", 1, "\"\"\"\"", "a lone quote, doubled inside a string");
	expr_is("say \"hi\"", 8, "\"say\" \"\"\"hi\"\"\"", "quotes doubled");
	expr_is("text:foo", 8, "\"text:foo\"", "a column filter is a word");
	expr_is("foo* ^bar -baz", 14, "\"foo*\" \"^bar\" \"-baz\"",
	    "prefix, initial and minus are words");
	expr_is("caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac", 12,
	    "\"caf\xc3\xa9\" \"\xe6\x97\xa5\xe6\x9c\xac\"", "UTF-8 words");
	expr_is(
	    "a\0b", 3, "\"a\" \"b\"", "a NUL separates, never reaches FTS5");
	expr_is("a\x7f\xc2\x85z", 5, "\"a\" \"z\"", "DEL and C1 separate");
	refused("", 0, "empty");
	refused(" \t\r\n", 4, "white space only");
	refused("\xff", 1, "invalid UTF-8");
	refused("ab\xc3", 3, "a cut sequence");
	refused("\xed\xa0\x80", 3, "a surrogate");
	memset(long_q, 'x', SEARCH_MAX_CHARS);
	memset(want, 'x', SEARCH_MAX_CHARS + 2);
	want[0] = want[SEARCH_MAX_CHARS + 1] = '"';
	want[SEARCH_MAX_CHARS + 2] = '\0';
	expr_is(long_q, SEARCH_MAX_CHARS, want, "200 characters");
	refused(long_q, SEARCH_MAX_CHARS + 1, "201 characters");
	for (i = 0; i < SEARCH_MAX_CHARS; i++)
		memcpy(long_q + 2 * i, "\xc3\xa9", 2);
	buf_init(&out);
	ok(search_expr(long_q, SEARCH_MAX_CHARS * 2, &out) == NULL,
	    "200 two-byte characters are 200, not 400");
	buf_free(&out);
	long_q[SEARCH_MAX_CHARS * 2] = 'x';
	refused(long_q, SEARCH_MAX_CHARS * 2 + 1, "and one more");
	return tap_done();
}
