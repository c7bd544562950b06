/*
 * xmalloc: allocation that cannot fail, for long-lived objects.
 *
 * chatd cannot do anything useful when malloc fails, so these abort with a
 * message instead of returning NULL; callers never check.
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#ifndef CHATD_XMALLOC_H
#define CHATD_XMALLOC_H

#include <stddef.h>

void *xmalloc(size_t);
void *xcalloc(size_t, size_t);
void *xrealloc(void *, size_t);
char *xstrdup(const char *);
char *xstrndup(const char *, size_t);

#endif
