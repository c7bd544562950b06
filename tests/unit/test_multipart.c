/*
 * Unit tests of multipart.c (upload forms) and validate_image (image
 * bytes): what browsers send parses, and what an attacker might send
 * instead is refused without reading past the body.
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#include <stdlib.h>

#include "multipart.h"
#include "tap.h"
#include "validate.h"

#define CT "multipart/form-data; boundary=----XyZ"
#define D "------XyZ"

static const char *
parse(struct pool *p, const char *ct, const char *body, struct multipart *m)
{
	return multipart_parse(p, ct, body, strlen(body), m);
}

/* Parse body from an exact-size heap copy, so ASan sees any overread. */
static const char *
parse_exact(struct pool *p, const char *ct, const char *body, size_t len,
    struct multipart *m)
{
	char	   *copy = malloc(len ? len : 1);
	const char *why;

	memcpy(copy, body, len);
	why = multipart_parse(p, ct, copy, len, m);
	free(copy);
	return why;
}

/* Bodies under CT that must be refused, each with what is wrong. */
static const struct {
	const char *body, *name;
} refused[] = {
	{ "", "an empty body" },
	{ "no boundary at all", "a body without the boundary" },
	{ D "\r\nContent-Disposition: form-data; name=a\r\n\r\n1",
	    "a body cut before the last boundary" },
	{ D "\r\nContent-Disposition: form-data; name=a\r\n",
	    "a body cut in the headers" },
	{ D "\r\nContent-Type: image/png\r\n\r\n1\r\n" D "--",
	    "a part without Content-Disposition" },
	{ D "\r\nContent-Disposition: form-data\r\n\r\n1\r\n" D "--",
	    "a part without a name" },
	{ D "\r\nContent-Disposition: form-data; name=\"\"\r\n\r\n1\r\n" D "--",
	    "a part with an empty name" },
	{ D "\r\nContent-Disposition: attachment; name=a\r\n\r\n1\r\n" D "--",
	    "a part that is not form-data" },
	{ D "\r\nContent-Disposition: form-data; name=a\r\n folded\r\n\r\n"
	    "1\r\n" D "--",
	    "a folded header line" },
	{ D "\r\nContent-Disposition: form-data; name=a\r\n"
	    "Content-Disposition: form-data; name=b\r\n\r\n1\r\n" D "--",
	    "two Content-Dispositions" },
	{ D "\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n" D
	    "\r\nContent-Disposition: form-data; name=a\r\n\r\n2\r\n" D "--",
	    "a field twice" },
	{ D "\r\nContent-Disposition: form-data; name=file\r\n\r\n1\r\n" D
	    "\r\nContent-Disposition: form-data; name=file\r\n\r\n2\r\n" D "--",
	    "two files" },
	{ D "junk\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n" D
	    "--",
	    "junk after a boundary" },
};

int
main(void)
{
	struct pool		  *p = pool_new();
	struct multipart	   m;
	const char		  *type, *body;
	size_t			   i, len;
	static const unsigned char png[] = { 0x89, 'P', 'N', 'G', '\r', '\n',
		0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R', 0, 0, 0, 1 };
	static const unsigned char jpeg[] = { 0xff, 0xd8, 0xff, 0xe0, 0, 16 };
	static const unsigned char webp[] = { 'R', 'I', 'F', 'F', 4, 0, 0, 0,
		'W', 'E', 'B', 'P', 'V', 'P', '8', ' ' };

	ok(request_is_multipart(CT), "multipart/form-data with a boundary");
	ok(request_is_multipart("Multipart/Form-Data;boundary=x"),
	    "the type is case-insensitive");
	ok(!request_is_multipart("multipart/mixed; boundary=x"),
	    "multipart/mixed is not a form");

	body = D "\r\n"
		 "Content-Disposition: form-data; name=\"csrf\"\r\n\r\n"
		 "abc\r\n" D "\r\n"
		 "Content-Disposition: form-data; name=\"file\"; "
		 "filename=\"a.png\"\r\n"
		 "Content-Type: text/plain\r\n\r\n"
		 "\x89PNG\r\n\x1a\n-- not a boundary\r\n--\r\n" D "\r\n"
		 "content-disposition: FORM-DATA; name=room\r\n\r\n"
		 "r1\r\n" D "--\r\n";
	ok(parse(p, CT, body, &m) == NULL, "a browser's upload parses");
	ok(m.fields.n == 2 && str_eq(m.fields.v[0].name, "csrf") &&
		str_eq(m.fields.v[0].value, "abc"),
	    "a field and its value");
	ok(m.fields.n == 2 && str_eq(m.fields.v[1].name, "room") &&
		str_eq(m.fields.v[1].value, "r1"),
	    "header names and form-data are case-insensitive, names may be "
	    "unquoted");
	ok(m.file != NULL && m.file_len == 29 &&
		memcmp(m.file, "\x89PNG\r\n\x1a\n-- not a boundary\r\n--",
		    29) == 0,
	    "the file's bytes, CRLFs and dashes inside included");

	ok(parse(p, "multipart/form-data; boundary=\"----XyZ\"", body, &m) ==
		    NULL &&
		m.file != NULL,
	    "a quoted boundary");
	ok(parse(p, "multipart/form-data; charset=utf-8; boundary=----XyZ",
	       body, &m) == NULL,
	    "the boundary after another parameter");
	ok(parse(p, CT,
	       "preamble\r\n" D "\r\nContent-Disposition: form-data; "
	       "name=a\r\n\r\n1\r\n" D "--",
	       &m) == NULL &&
		m.fields.n == 1,
	    "a preamble before the first boundary is skipped");

	ok(parse(p, "multipart/form-data", body, &m) != NULL,
	    "no boundary parameter");
	ok(parse(p, "multipart/form-data; boundary=", body, &m) != NULL,
	    "an empty boundary");
	ok(parse(p, "multipart/form-data; boundary=a<b", body, &m) != NULL,
	    "a boundary with a character RFC 2046 does not allow");
	ok(parse(p, "multipart/form-data; boundary=\"unclosed", body, &m) !=
		NULL,
	    "an unclosed quoted boundary");
	ok(parse(p,
	       "multipart/form-data; boundary="
	       "0123456789"
	       "0123456789012345678901234567890123456789012345678901234567890",
	       body, &m) != NULL,
	    "a boundary over 70 characters");
	for (i = 0; i < sizeof refused / sizeof refused[0]; i++)
		ok(parse(p, CT, refused[i].body, &m) != NULL, "%s",
		    refused[i].name);

	{
		/* 33 fields: one more than a form may have. */
		char   big[4096];
		size_t n = 0;

		for (i = 0; i < 33; i++)
			n += (size_t)snprintf(big + n, sizeof big - n,
			    D "\r\n"
			      "Content-Disposition: form-data; name=f%zu\r\n"
			      "\r\nx\r\n",
			    i);
		snprintf(big + n, sizeof big - n, D "--");
		ok(parse(p, CT, big, &m) != NULL, "too many fields");
	}
	{
		/* A header line of 5000 bytes. */
		char big[8192];

		snprintf(big, sizeof big,
		    D "\r\nContent-Disposition: form-data; "
		      "name=a\r\nX-Long: %05000d\r\n\r\n1\r\n" D "--",
		    0);
		ok(parse(p, CT, big, &m) != NULL, "an overlong header line");
	}

	/* Every prefix of a good body: refused or parsed, never overread. */
	body = D "\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n"
		 "\x89PNG\r\n"
		 "\r\n" D "--";
	len = strlen(body);
	for (i = 0; i < len; i++)
		parse_exact(p, CT, body, i, &m);
	ok(parse_exact(p, CT, body, len, &m) == NULL && m.file_len == 6,
	    "every prefix of a body is handled; the whole parses");

	ok(validate_image(png, sizeof png, &type) == NULL &&
		strcmp(type, "image/png") == 0,
	    "a PNG");
	ok(validate_image(jpeg, sizeof jpeg, &type) == NULL &&
		strcmp(type, "image/jpeg") == 0,
	    "a JPEG");
	ok(validate_image((const unsigned char *)"GIF89a\1\0\1\0", 10, &type) ==
		    NULL &&
		strcmp(type, "image/gif") == 0,
	    "a GIF");
	ok(validate_image(webp, sizeof webp, &type) == NULL &&
		strcmp(type, "image/webp") == 0,
	    "a WebP");
	ok(validate_image((const unsigned char *)"", 0, &type) != NULL &&
		type == NULL,
	    "an empty file is no image");
	ok(validate_image((const unsigned char *)"<svg xmlns=", 11, &type) !=
		NULL,
	    "SVG is refused");
	ok(validate_image((const unsigned char *)"<html><script>", 14, &type) !=
		NULL,
	    "HTML is refused");
	ok(validate_image(png, 8, &type) != NULL,
	    "a PNG signature alone is refused");
	ok(validate_image((const unsigned char *)"RIFF\4\0\0\0WAVEfmt ", 16,
	       &type) != NULL,
	    "a RIFF that is not WebP is refused");

	pool_free(p);
	return tap_done();
}
