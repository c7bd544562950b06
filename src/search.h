/*
 * search: a person's words as a full-text query of the history.
 *
 * GET /api/search takes plain words, never FTS5 syntax: each word of the
 * query becomes an FTS5 string ("..." with its quotes doubled), and the
 * strings are joined by spaces, which FTS5 reads as AND. So OR, NOT,
 * NEAR(, *, ^, a column name and a colon, parentheses and quotes are
 * words like any other, and can neither fail the query nor widen it. A
 * pure function, for the unit tests and the handler alike.
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#ifndef CHATD_SEARCH_H
#define CHATD_SEARCH_H

#include <stddef.h>

#include "buf.h"

#define SEARCH_MAX_CHARS 200

const char *search_expr(const char *, size_t, struct buf *);

#endif
