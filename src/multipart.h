/*
 * multipart: a multipart/form-data body (RFC 7578), as browsers post an
 * image upload. Pure parsing, no I/O, nothing trusted.
 *
 * The body is split at its boundary; each part must carry
 * Content-Disposition: form-data with a name. The part named "file" is
 * the upload: its bytes are pointed to, not copied, and its filename and
 * declared Content-Type are ignored (the image is judged by its bytes).
 * Every other part is a field, its value copied into the pool as in a
 * urlencoded form. Repeated names, a missing or malformed boundary, a
 * part without a name, header lines past a small limit, and more parts
 * than a form has are errors.
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#ifndef CHATD_MULTIPART_H
#define CHATD_MULTIPART_H

#include "request.h"

struct multipart {
	struct params fields; /* every part but "file" */
	const char   *file;   /* into the body; NULL if none */
	size_t	      file_len;
};

int	    request_is_multipart(const char *);
const char *multipart_parse(
    struct pool *, const char *, const char *, size_t, struct multipart *);

#endif
