/*
 * json: encoding JSON into a buf. Pure functions, no allocation of their own.
 *
 * Strings are escaped so the output is also safe to evaluate as JavaScript
 * in an old browser and to embed in HTML: <, >, &, U+2028 and U+2029 always
 * go out as \u escapes of four hex digits (docs/api.md, Transport). Bytes that
 * are not valid UTF-8 (a row written by hand with sqlite3 may hold some)
 * become U+FFFD.
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#ifndef CHATD_JSON_H
#define CHATD_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

void json_string(struct buf *, const char *, size_t);
void json_cstring(struct buf *, const char *);
void json_int(struct buf *, int64_t);
void json_key(struct buf *, const char *);

#endif
