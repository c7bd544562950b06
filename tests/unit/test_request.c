/*
 * Unit tests of request.c: query and form decoding, cookies, integers.
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#include "request.h"
#include "tap.h"

static const char *
decode(struct pool *p, const char *s, struct params *ps)
{
	return request_decode_pairs(p, s, strlen(s), ps);
}

int
main(void)
{
	struct pool	 *p = pool_new();
	struct params	  ps;
	struct request	  r;
	struct str	  v, s;
	const struct str *a;
	long long	  n;

	ok(decode(p, "a=1&b=two+words&c=%41%2b%e2%82%ac", &ps) == NULL &&
		ps.n == 3,
	    "three pairs decode");
	ok(str_eq(ps.v[1].value, "two words"), "+ is a space");
	ok(str_eq(ps.v[2].value, "A+\xe2\x82\xac"), "%%-escapes decode");
	ok(decode(p, "&&a=1&&", &ps) == NULL && ps.n == 1,
	    "empty pieces are skipped");
	ok(decode(p, "flag&x=", &ps) == NULL && ps.n == 2 &&
		ps.v[0].value.len == 0 && ps.v[1].value.len == 0,
	    "a name without = or value has an empty value");
	ok(decode(p, "a=%zz", &ps) != NULL, "a bad hex digit is an error");
	ok(decode(p, "a=%4", &ps) != NULL, "a short escape is an error");
	ok(decode(p, "a=%", &ps) != NULL, "a lone %% is an error");
	ok(decode(p, "a=1&a=2", &ps) != NULL, "a repeated name is an error");
	ok(decode(p, "a=%00b", &ps) == NULL && ps.v[0].value.len == 2 &&
		ps.v[0].value.p[0] == '\0',
	    "%%00 decodes to a NUL, length kept");
	ok(decode(p,
	       "a=1&b=2&c=3&d=4&e=5&f=6&g=7&h=8&i=9&j=10&k=11&l=12&"
	       "m=13&n=14&o=15&p=16&q=17&r=18&s=19&t=20&u=21&v=22&w=23&x=24&"
	       "y=25&z=26&A=1&B=2&C=3&D=4&E=5&F=6&G=7",
	       &ps) != NULL,
	    "more than 32 parameters is an error");

	ok(request_cookie("a=1; chat_session=XYZ; b=2", "chat_session", &v) &&
		str_eq(v, "XYZ"),
	    "a cookie among others");
	ok(request_cookie(
	       "chat_session=first;chat_session=second", "chat_session", &v) &&
		str_eq(v, "first"),
	    "the first one wins");
	ok(!request_cookie("xchat_session=1", "chat_session", &v),
	    "a longer name does not match");
	ok(!request_cookie(NULL, "chat_session", &v), "no header");

	ok(request_is_form("application/x-www-form-urlencoded"), "form type");
	ok(request_is_form("application/x-www-form-urlencoded; charset=UTF-8"),
	    "form type with charset");
	ok(!request_is_form("multipart/form-data; boundary=x"),
	    "multipart is not a urlencoded form");
	ok(!request_is_form("application/x-www-form-urlencodedX"),
	    "a longer type does not match");

	memset(&r, 0, sizeof r);
	r.pool = p;
	r.method = "POST";
	r.query = "room=q";
	r.body.p = "text=hi&room=b";
	r.body.len = strlen(r.body.p);
	r.content_type = "text/plain";
	ok(request_parse_query(&r) == NULL && request_parse_body(&r) != NULL,
	    "a body that is not a form fails");
	r.content_type = "multipart/form-data; boundary=x";
	ok(request_parse_query(&r) == NULL && request_parse_body(&r) != NULL,
	    "multipart fails where the route does not take it");
	r.content_type = "application/x-www-form-urlencoded";
	ok(request_parse_query(&r) == NULL && request_parse_body(&r) == NULL,
	    "a form body parses");
	ok((a = request_arg(&r, "room")) && str_eq(*a, "b"),
	    "a POST's arguments come from the form");
	ok((a = request_query_arg(&r, "room")) && str_eq(*a, "q"),
	    "the query string is still there");

	s = STR("42");
	ok(request_parse_int(&s, 0, 60, &n) == 0 && n == 42, "an integer");
	s = STR("61");
	ok(request_parse_int(&s, 0, 60, &n) == -1, "over the maximum");
	s = STR("-1");
	ok(request_parse_int(&s, 0, 60, &n) == -1, "under the minimum");
	s = STR("4x");
	ok(request_parse_int(&s, 0, 60, &n) == -1, "trailing junk");
	s = STR("");
	ok(request_parse_int(&s, 0, 60, &n) == -1, "empty");
	s = STR("9223372036854775807");
	ok(request_parse_int(&s, 0, 9223372036854775807LL, &n) == 0 &&
		n == 9223372036854775807LL,
	    "the largest 64-bit integer");
	s = STR("9223372036854775808");
	ok(request_parse_int(&s, 0, 9223372036854775807LL, &n) == -1,
	    "one more overflows, and is refused");
	s = STR("99999999999999999999999");
	ok(request_parse_int(&s, 0, 9223372036854775807LL, &n) == -1,
	    "too many digits cannot overflow");
	pool_free(p);
	return tap_done();
}
