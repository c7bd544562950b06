/*
 * utf8: strict UTF-8 decoding, shared by validation and JSON encoding.
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#ifndef CHATD_UTF8_H
#define CHATD_UTF8_H

#include <stddef.h>
#include <stdint.h>

int  utf8_decode(const char *, size_t, uint32_t *);
void utf8_encode(uint32_t, char *, size_t *);

#endif
