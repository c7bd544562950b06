/*
 * fuzz_multipart: multipart/form-data bodies (src/multipart.c), the image
 * upload's parser. The input is a Content-Type value, a newline, and the
 * body (libFuzzer hands over an exact-size buffer, so ASan sees any read
 * past the body).
 *
 * Properties of a body accepted: the file, if any, lies inside the body
 * and is preceded by a CRLF and a header block; the fields are at most
 * REQUEST_MAX_PARAMS, with distinct names, none of them "file"; every
 * field's value is no longer than the body.
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fuzz.h"
#include "multipart.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t	*nl;
	char		*ct, *body;
	size_t		 ct_len, body_len, i, j;
	struct pool	*pool;
	struct multipart m;

	if ((nl = memchr(data, '\n', size)) == NULL)
		return 0;
	ct_len = (size_t)(nl - data);
	body_len = size - ct_len - 1;
	if ((ct = malloc(ct_len + 1)) == NULL ||
	    (body = malloc(body_len ? body_len : 1)) == NULL)
		abort();
	memcpy(ct, data, ct_len);
	ct[ct_len] = '\0';
	memcpy(body, nl + 1, body_len);
	pool = pool_new();
	if (multipart_parse(pool, ct, body, body_len, &m) == NULL) {
		if (m.file != NULL) {
			FUZZ_CHECK(m.file >= body + 4);
			FUZZ_CHECK(m.file_len <= body_len);
			FUZZ_CHECK(m.file + m.file_len <= body + body_len);
			FUZZ_CHECK(memcmp(m.file - 4, "\r\n\r\n", 4) == 0);
		}
		FUZZ_CHECK(m.fields.n <= REQUEST_MAX_PARAMS);
		for (i = 0; i < m.fields.n; i++) {
			FUZZ_CHECK(m.fields.v[i].value.len <= body_len);
			FUZZ_CHECK(!str_eq(m.fields.v[i].name, "file"));
			for (j = 0; j < i; j++)
				FUZZ_CHECK(m.fields.v[i].name.len !=
					m.fields.v[j].name.len ||
				    memcmp(m.fields.v[i].name.p,
					m.fields.v[j].name.p,
					m.fields.v[i].name.len) != 0);
		}
	}
	pool_free(pool);
	free(body);
	free(ct);
	return 0;
}
