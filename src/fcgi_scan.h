/*
 * fcgi_scan: is a whole FastCGI request in these bytes? Pure: bytes in,
 * a verdict out, no reading and no allocation.
 *
 * chatd hands a connection to libfcgi only once the request it carries is
 * whole, so that libfcgi's blocking reads never wait (see conn.c). Whole
 * means, as nginx sends it: FCGI_BEGIN_REQUEST (8 bytes of content, no
 * padding, a request id other than 0), FCGI_PARAMS records of that id up
 * to the empty one, then FCGI_STDIN records of that id up to the empty
 * one; every record of version 1, the empty ones without padding.
 * Anything else is malformed, even where libfcgi would read on (it skips
 * records of other ids and answers management records by writing, and it
 * misreads the padding of a begin record or of an empty one): this
 * grammar is the part of FastCGI on which this scanner and libfcgi agree
 * byte for byte. The params may hold FCGI_SCAN_PARAMS_MAX bytes at most.
 *
 * The scan goes on across calls: feed it the bytes as they come, in
 * pieces of any size, and it says MORE until the request is whole or
 * malformed.
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#ifndef CHATD_FCGI_SCAN_H
#define CHATD_FCGI_SCAN_H

#include <stddef.h>

#define FCGI_SCAN_PARAMS_MAX (128 << 10)

enum fcgi_scan_result {
	FCGI_SCAN_MORE,	 /* not whole yet: feed it more */
	FCGI_SCAN_WHOLE, /* a whole request ends in what was fed */
	FCGI_SCAN_BAD	 /* not a request chatd reads */
};

struct fcgi_scan {
	int	      stage;	  /* which record comes next (fcgi_scan.c) */
	int	      request_id; /* of the begin record */
	unsigned char head[8];	  /* the header being read */
	size_t	      head_len;
	size_t	      skip;	  /* content and padding left of a record */
	size_t	      params_len; /* content of the params so far */
	size_t	      stdin_len;  /* content of the body so far */
	size_t	      total;	  /* bytes of the request so far */
};

void		      fcgi_scan_init(struct fcgi_scan *);
enum fcgi_scan_result fcgi_scan(
    struct fcgi_scan *, const unsigned char *, size_t, size_t *);

#endif
