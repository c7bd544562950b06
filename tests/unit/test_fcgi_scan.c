/*
 * test_fcgi_scan: the FastCGI request scanner (src/fcgi_scan.c): whole
 * requests as nginx writes them, every prefix of one, every split of one
 * into two pieces, what follows a request, and the records it refuses.
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fcgi_scan.h"
#include "tap.h"

/* Append a record: type, request id, content, padding. */
static void
record(struct buf *b, int type, int id, const char *content, size_t len,
    size_t pad)
{
	unsigned char	  h[8];
	static const char zeros[255];

	h[0] = 1;
	h[1] = (unsigned char)type;
	h[2] = (unsigned char)(id >> 8);
	h[3] = (unsigned char)id;
	h[4] = (unsigned char)(len >> 8);
	h[5] = (unsigned char)len;
	h[6] = (unsigned char)pad;
	h[7] = 0;
	buf_add(b, h, sizeof h);
	buf_add(b, content, len);
	buf_add(b, zeros, pad);
}

/* A request as nginx writes it: begin, padded params, end, body, end. */
static void
request(struct buf *b, int id, const char *body)
{
	static const char begin[8] = { 0, 1, 1, 0, 0, 0, 0, 0 };
	static const char params[] = "\016\003REQUEST_METHODGET"
				     "\014\012DOCUMENT_URI/api/users";

	record(b, 1, id, begin, sizeof begin, 0);
	record(b, 4, id, params, sizeof params - 1,
	    (8 - (sizeof params - 1) % 8) % 8);
	record(b, 4, id, NULL, 0, 0);
	if (body != NULL && *body != '\0')
		record(b, 5, id, body, strlen(body), 3);
	record(b, 5, id, NULL, 0, 0);
}

/* Scan len bytes at p at once; *used as fcgi_scan says. */
static int
scan(const void *p, size_t len, size_t *used)
{
	struct fcgi_scan s;

	fcgi_scan_init(&s);
	return fcgi_scan(&s, p, len, used);
}

static void
test_whole(void)
{
	struct buf	 b;
	struct fcgi_scan s;
	size_t		 used, i, bad = 0, u1, u2;
	int		 r;

	buf_init(&b);
	request(&b, 1, "text=hello");
	r = scan(b.data, b.len, &used);
	ok(r == FCGI_SCAN_WHOLE && used == b.len,
	    "a whole request: WHOLE, every byte its own");
	for (i = 0; i < b.len; i++)
		if (scan(b.data, i, &used) != FCGI_SCAN_MORE || used != i)
			bad++;
	ok(bad == 0, "each of its %zu prefixes: MORE", b.len);
	for (i = 0, bad = 0; i <= b.len; i++) {
		fcgi_scan_init(&s);
		if (fcgi_scan(&s, (unsigned char *)b.data, i, &u1) ==
			FCGI_SCAN_BAD ||
		    fcgi_scan(&s, (unsigned char *)b.data + i, b.len - i,
			&u2) != FCGI_SCAN_WHOLE ||
		    u1 + u2 != b.len || s.total != b.len)
			bad++;
	}
	ok(bad == 0, "split in two at each byte: WHOLE at the same end");
	fcgi_scan_init(&s);
	for (i = 0, bad = 0; i < b.len; i++) {
		r = fcgi_scan(&s, (unsigned char *)b.data + i, 1, &used);
		if (r != (i + 1 == b.len ? FCGI_SCAN_WHOLE : FCGI_SCAN_MORE))
			bad++;
	}
	ok(bad == 0, "fed a byte at a time: WHOLE at the last byte only");
	ok(s.stdin_len == strlen("text=hello") && s.params_len == 43,
	    "the scan counts the body (%zu) and the params (%zu)", s.stdin_len,
	    s.params_len);
	buf_free(&b);
}

static void
test_after_the_end(void)
{
	struct buf b;
	size_t	   used, one;

	buf_init(&b);
	request(&b, 1, NULL);
	one = b.len;
	ok(scan(b.data, b.len, &used) == FCGI_SCAN_WHOLE && used == one,
	    "a GET with an empty body: WHOLE");
	request(&b, 1, "x");
	ok(scan(b.data, b.len, &used) == FCGI_SCAN_WHOLE && used == one,
	    "two requests back to back: WHOLE at the end of the first");
	buf_free(&b);
	buf_init(&b);
	request(&b, 65535, "a body");
	ok(scan(b.data, b.len, &used) == FCGI_SCAN_WHOLE && used == b.len,
	    "request id 65535: WHOLE");
	buf_free(&b);
}

static void
test_records(void)
{
	static const char begin[8] = { 0, 1, 1, 0, 0, 0, 0, 0 };
	struct buf	  b;
	char		 *big;
	size_t		  used;

	buf_init(&b);
	record(&b, 1, 7, begin, 8, 0);
	record(&b, 4, 7, "\001\001ab", 4, 4);
	record(&b, 4, 7, "\001\001cd", 4, 255);
	record(&b, 4, 7, NULL, 0, 0);
	record(&b, 5, 7, "12345678", 8, 0);
	record(&b, 5, 7, "9", 1, 7);
	record(&b, 5, 7, NULL, 0, 0);
	ok(scan(b.data, b.len, &used) == FCGI_SCAN_WHOLE && used == b.len,
	    "several params and stdin records, padded any way: WHOLE");
	buf_free(&b);
	big = calloc(1, 65535);
	buf_init(&b);
	record(&b, 1, 1, begin, 8, 0);
	record(&b, 4, 1, NULL, 0, 0);
	record(&b, 5, 1, big, 65535, 1);
	record(&b, 5, 1, NULL, 0, 0);
	ok(scan(b.data, b.len, &used) == FCGI_SCAN_WHOLE && used == b.len &&
		used == 8 + 8 + 8 + 8 + 65535 + 1 + 8,
	    "a record of 65,535 bytes: WHOLE");
	buf_free(&b);
	free(big);
}

/* Where a malformed record comes: what precedes it is well formed. */
enum { AT_START, AFTER_BEGIN, AFTER_PARAMS };

/* A request that breaks at a record (type, id, len, pad): BAD there. */
static void
bad(const char *name, int at, int type, int id, size_t len, size_t pad)
{
	static const char begin[8] = { 0, 1, 1, 0, 0, 0, 0, 0 };
	static const char content[16];
	struct buf	  b;
	size_t		  used;

	buf_init(&b);
	if (at != AT_START)
		record(&b, 1, 1, begin, 8, 0);
	if (at == AFTER_PARAMS)
		record(&b, 4, 1, NULL, 0, 0);
	record(&b, type, id, content, len, pad);
	ok(scan(b.data, b.len, &used) == FCGI_SCAN_BAD, "%s: BAD", name);
	buf_free(&b);
}

static void
test_refused(void)
{
	static const char begin[8] = { 0, 1, 1, 0, 0, 0, 0, 0 };
	struct buf	  b;
	char		 *params;
	size_t		  used, i;

	buf_init(&b);
	record(&b, 1, 1, begin, 8, 0);
	b.data[0] = 2;
	ok(scan(b.data, b.len, &used) == FCGI_SCAN_BAD,
	    "version 2: BAD at its header");
	buf_free(&b);
	buf_init(&b);
	record(&b, 1, 1, begin, 8, 8); /* its padding reads as an end */
	memcpy(b.data + b.len - 8, "\001\004\000\001\000\000\000\000", 8);
	record(&b, 5, 1, NULL, 0, 0);
	ok(scan(b.data, b.len, &used) == FCGI_SCAN_BAD,
	    "a padded begin record, its padding a header: BAD");
	buf_free(&b);
	bad("params first", AT_START, 4, 1, 4, 4);
	bad("a begin record of request id 0", AT_START, 1, 0, 8, 0);
	bad("a begin record of 7 bytes", AT_START, 1, 1, 7, 0);
	bad("a begin record of 16 bytes", AT_START, 1, 1, 16, 0);
	bad("a padded begin record", AT_START, 1, 1, 8, 8);
	bad("a management record first", AT_START, 9, 0, 8, 0);
	bad("a management record after the begin", AFTER_BEGIN, 9, 0, 8, 0);
	bad("a second begin record", AFTER_BEGIN, 1, 1, 8, 0);
	bad("params of another request id", AFTER_BEGIN, 4, 2, 4, 4);
	bad("stdin before the end of the params", AFTER_BEGIN, 5, 1, 4, 4);
	bad("an abort record", AFTER_BEGIN, 2, 1, 0, 0);
	bad("an empty params record with padding", AFTER_BEGIN, 4, 1, 0, 8);
	bad("a params record after their end", AFTER_PARAMS, 4, 1, 4, 4);
	bad("stdin of another request id", AFTER_PARAMS, 5, 3, 4, 4);
	bad("a data record", AFTER_PARAMS, 8, 1, 4, 4);
	bad("an empty stdin record with padding", AFTER_PARAMS, 5, 1, 0, 1);
	buf_init(&b);
	record(&b, 1, 1, begin, 8, 0);
	params = calloc(1, 65535);
	for (i = 0; i * 65535 <= FCGI_SCAN_PARAMS_MAX; i++)
		record(&b, 4, 1, params, 65535, 1);
	free(params);
	ok(scan(b.data, b.len, &used) == FCGI_SCAN_BAD,
	    "params past %d bytes: BAD", FCGI_SCAN_PARAMS_MAX);
	buf_free(&b);
}

int
main(void)
{
	test_whole();
	test_after_the_end();
	test_records();
	test_refused();
	return tap_done();
}
