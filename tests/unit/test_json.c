/*
 * Unit tests of json.c: escaping for JSON, JavaScript and HTML at once.
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#include "json.h"
#include "tap.h"

static void
check(const char *in, size_t len, const char *want, const char *name)
{
	struct buf b;

	buf_init(&b);
	json_string(&b, in, len);
	ok_bytes(b.data, b.len, want, name);
	buf_free(&b);
}

int
main(void)
{
	struct buf b;

	check("hi", 2, "\"hi\"", "plain ASCII passes through");
	check("", 0, "\"\"", "empty string");
	check("a\"b\\c", 5, "\"a\\\"b\\\\c\"", "quote and backslash");
	check("<script>&</script>", 18,
	    "\"\\u003cscript\\u003e\\u0026\\u003c/script\\u003e\"",
	    "< > & are always \\u escaped");
	check("\n\r\t", 3, "\"\\n\\r\\t\"", "newline, return, tab");
	check("\x01\x1f", 2, "\"\\u0001\\u001f\"", "other control chars");
	check("a\0b", 3, "\"a\\u0000b\"", "an embedded NUL is kept, escaped");
	check("\xe2\x80\xa8\xe2\x80\xa9", 6, "\"\\u2028\\u2029\"",
	    "U+2028 and U+2029 are escaped for old JavaScript");
	check("caf\xc3\xa9 \xf0\x9f\x98\x80", 10,
	    "\"caf\xc3\xa9 \xf0\x9f\x98\x80\"", "valid UTF-8 passes through");
	check("a\xffz", 3, "\"a\\ufffdz\"", "an invalid byte becomes U+FFFD");
	check(
	    "\xc0\xaf", 2, "\"\\ufffd\\ufffd\"", "overlong forms are invalid");
	check("\xed\xa0\x80", 3, "\"\\ufffd\\ufffd\\ufffd\"",
	    "surrogates are invalid");
	check("\xe2\x82", 2, "\"\\ufffd\\ufffd\"", "a truncated sequence");

	buf_init(&b);
	buf_addc(&b, '{');
	json_key(&b, "id");
	json_int(&b, -9223372036854775807LL - 1);
	buf_addc(&b, '}');
	ok_bytes(b.data, b.len, "{\"id\":-9223372036854775808}",
	    "keys and 64-bit integers");
	buf_free(&b);
	return tap_done();
}
