/*
 * sha256: the SHA-256 digest (FIPS 180-4), to store session tokens hashed.
 *
 * chatd keeps only the hash of each session token in the database, so a
 * person reading chat.db with sqlite3 cannot take over a session.
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#ifndef CHATD_SHA256_H
#define CHATD_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN 32

void sha256(const void *, size_t, uint8_t[SHA256_LEN]);

#endif
