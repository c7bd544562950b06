/*
 * buf: strings that carry their length, and a per-request arena.
 *
 * A struct buf is a growable byte buffer (always NUL-terminated for
 * convenience, but the length is the truth: request data may hold NULs).
 * A struct str is a borrowed slice. A struct pool hands out memory that is
 * freed all at once when the request that owns it ends, so parsers can
 * return pointers without anyone tracking them one by one.
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#ifndef CHATD_BUF_H
#define CHATD_BUF_H

#include <stddef.h>

struct buf {
	char  *data;
	size_t len;
	size_t cap;
};

struct str {
	const char *p;
	size_t	    len;
};

#define STR(lit) ((struct str){ (lit), sizeof(lit) - 1 })

void buf_init(struct buf *);
void buf_free(struct buf *);
void buf_reset(struct buf *);
void buf_reserve(struct buf *, size_t);
void buf_add(struct buf *, const void *, size_t);
void buf_adds(struct buf *, const char *);
void buf_addc(struct buf *, char);
void buf_printf(struct buf *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
char *buf_steal(struct buf *);

int str_eq(struct str, const char *);
int str_eq_nocase(struct str, const char *);

struct pool;

struct pool *pool_new(void);
void	     pool_free(struct pool *);
void	    *pool_alloc(struct pool *, size_t);
char	    *pool_strndup(struct pool *, const char *, size_t);

#endif
