/*
 * fcgi_scan: the FastCGI request scanner (see fcgi_scan.h).
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#include <string.h>

#include "fcgi_scan.h"

/* Record types and the version byte (the FastCGI 1.0 spec). */
#define FCGI_VERSION_1 1
#define FCGI_BEGIN_REQUEST 1
#define FCGI_PARAMS 4
#define FCGI_STDIN 5
#define FCGI_BEGIN_LEN 8

/* What comes next: the header of one of these, then its content. */
enum { STAGE_BEGIN, STAGE_PARAMS, STAGE_STDIN, STAGE_WHOLE, STAGE_BAD };

/* Start a scan at the first byte of a request. */
void
fcgi_scan_init(struct fcgi_scan *s)
{
	memset(s, 0, sizeof *s);
	s->stage = STAGE_BEGIN;
}

/* The header in s->head is read: check it against the stage. */
static int
take_header(struct fcgi_scan *s)
{
	const unsigned char *h = s->head;
	int		     type = h[1], id = h[2] << 8 | h[3];
	size_t		     len = (size_t)(h[4] << 8 | h[5]), pad = h[6];

	s->head_len = 0;
	if (h[0] != FCGI_VERSION_1)
		return STAGE_BAD;
	if (s->stage == STAGE_BEGIN) {
		if (type != FCGI_BEGIN_REQUEST || id == 0 ||
		    len != FCGI_BEGIN_LEN || pad != 0)
			return STAGE_BAD;
		s->request_id = id;
		s->skip = len;
		return STAGE_PARAMS;
	}
	if (id != s->request_id ||
	    type != (s->stage == STAGE_PARAMS ? FCGI_PARAMS : FCGI_STDIN))
		return STAGE_BAD;
	if (len == 0) /* the end of the stream, never padded */
		return pad != 0		     ? STAGE_BAD :
		    s->stage == STAGE_PARAMS ? STAGE_STDIN :
					       STAGE_WHOLE;
	if (s->stage == STAGE_PARAMS) {
		s->params_len += len;
		if (s->params_len > FCGI_SCAN_PARAMS_MAX)
			return STAGE_BAD;
	} else
		s->stdin_len += len;
	s->skip = len + pad;
	return s->stage;
}

/*
 * Scan len more bytes of the request at p. *used is how many of them
 * belong to the request: all of them unless it is WHOLE (then the bytes
 * after its end are not its own) or BAD (then the rest does not count).
 */
enum fcgi_scan_result
fcgi_scan(struct fcgi_scan *s, const unsigned char *p, size_t len, size_t *used)
{
	size_t i = 0, n;

	while (i < len && s->stage != STAGE_WHOLE && s->stage != STAGE_BAD) {
		if (s->skip > 0) {
			n = len - i < s->skip ? len - i : s->skip;
			s->skip -= n;
			i += n;
			continue;
		}
		n = sizeof s->head - s->head_len;
		if (n > len - i)
			n = len - i;
		memcpy(s->head + s->head_len, p + i, n);
		s->head_len += n;
		i += n;
		if (s->head_len == sizeof s->head)
			s->stage = take_header(s);
	}
	s->total += i;
	*used = i;
	if (s->stage == STAGE_WHOLE)
		return FCGI_SCAN_WHOLE;
	return s->stage == STAGE_BAD ? FCGI_SCAN_BAD : FCGI_SCAN_MORE;
}
