/*
 * validate: the rules for nicks, rooms, message text, client ids and
 * image bytes.
 *
 * Pure functions over bytes: each returns NULL when the input is
 * acceptable, or a sentence for people saying what is wrong, which the
 * handlers pass on as the error's "message".
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#ifndef CHATD_VALIDATE_H
#define CHATD_VALIDATE_H

#include <stddef.h>

#define NICK_MAX_CHARS 24
#define ROOM_MAX_BYTES 32
#define TEXT_MAX_CHARS 2000
#define CLIENT_ID_MAX_CHARS 64

const char *validate_nick(const char *, size_t);
const char *validate_room(const char *, size_t);
const char *validate_text(const char *, size_t);
const char *validate_client_id(const char *, size_t);
const char *validate_image(const unsigned char *, size_t, const char **);

#endif
