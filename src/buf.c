/*
 * buf: length-carrying buffers and the per-request arena (see buf.h).
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "xmalloc.h"

void
buf_init(struct buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void
buf_free(struct buf *b)
{
	free(b->data);
	buf_init(b);
}

/* Empty the buffer but keep its memory for reuse. */
void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

/* Make room for extra more bytes plus the terminating NUL. */
void
buf_reserve(struct buf *b, size_t extra)
{
	size_t need, cap;

	need = b->len + extra + 1;
	if (need <= b->cap)
		return;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap *= 2;
	b->data = xrealloc(b->data, cap);
	b->cap = cap;
}

void
buf_add(struct buf *b, const void *p, size_t len)
{
	buf_reserve(b, len);
	if (len > 0)
		memcpy(b->data + b->len, p, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void
buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void
buf_addc(struct buf *b, char c)
{
	buf_add(b, &c, 1);
}

void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	buf_reserve(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* Hand the bytes to the caller, who frees them; the buffer is left empty. */
char *
buf_steal(struct buf *b)
{
	char *p;

	buf_reserve(b, 0);
	p = b->data;
	buf_init(b);
	return p;
}

int
str_eq(struct str s, const char *lit)
{
	size_t len = strlen(lit);

	return s.len == len && memcmp(s.p, lit, len) == 0;
}

int
str_eq_nocase(struct str s, const char *lit)
{
	size_t len = strlen(lit);

	return s.len == len && strncasecmp(s.p, lit, len) == 0;
}

/*
 * The arena: a list of blocks, each allocation carved from the newest one.
 * Requests are small, so the first 4 KB block usually serves everything.
 */
struct pool_block {
	struct pool_block *next;
	size_t		   used;
	size_t		   size;
	max_align_t	   data[];
};

struct pool {
	struct pool_block *blocks;
};

#define POOL_BLOCK 4096

struct pool *
pool_new(void)
{
	return xcalloc(1, sizeof(struct pool));
}

void
pool_free(struct pool *pool)
{
	struct pool_block *b, *next;

	if (pool == NULL)
		return;
	for (b = pool->blocks; b != NULL; b = next) {
		next = b->next;
		free(b);
	}
	free(pool);
}

/* Memory that lives until pool_free; aligned for any type. */
void *
pool_alloc(struct pool *pool, size_t size)
{
	struct pool_block *b;
	size_t		   align = sizeof(max_align_t), bsize;
	void		  *p;

	size = (size + align - 1) / align * align;
	b = pool->blocks;
	if (b == NULL || b->size - b->used < size) {
		bsize = size > POOL_BLOCK ? size : POOL_BLOCK;
		b = xmalloc(sizeof(*b) + bsize);
		b->used = 0;
		b->size = bsize;
		b->next = pool->blocks;
		pool->blocks = b;
	}
	p = (char *)b->data + b->used;
	b->used += size;
	return p;
}

/* A NUL-terminated copy of len bytes, in the pool. */
char *
pool_strndup(struct pool *pool, const char *s, size_t len)
{
	char *p;

	p = pool_alloc(pool, len + 1);
	if (len > 0)
		memcpy(p, s, len);
	p[len] = '\0';
	return p;
}
