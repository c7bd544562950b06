/*
 * reply: HTTP answers as docs/api.md defines them, handed to conn to send.
 *
 * Every status chatd sends is chosen here, from an error code: handlers
 * say what went wrong (API_BAD_NICK) and a sentence for people, never a
 * number. Every JSON answer carries the three headers of docs/api.md; an
 * upload that asked for it (?frame=1) gets it inside an HTML page.
 *
 * Every answer is logged here too: at info a line for each that failed
 * (status, error code, path, the session's nick, milliseconds), at debug
 * one for every request. Never a token: no query string, no header.
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#ifndef CHATD_REPLY_H
#define CHATD_REPLY_H

#include "buf.h"
#include "conn.h"

#define REPLY_IOV_MAX 512 /* buffers of a body given to reply_json_iov */

enum api_error {
	API_BAD_NICK,
	API_NICK_TAKEN,
	API_NO_SESSION,
	API_BAD_CSRF,
	API_BAD_TEXT,
	API_BAD_ROOM,
	API_TOO_LARGE,
	API_BAD_IMAGE,
	API_NO_SUCH_USER,
	API_RATE_LIMITED,
	API_BAD_REQUEST,
	API_NOT_FOUND,
	API_METHOD_NOT_ALLOWED,
	API_UNAVAILABLE
};

/* What the answers of this process were, since the last look. */
struct reply_counts {
	unsigned long requests;
	unsigned long failed; /* 4xx and 5xx */
	unsigned long sends;  /* messages and images written */
};

void	    reply_counts_take(struct reply_counts *);
const char *reply_error_code(enum api_error);
int	    reply_error_status(enum api_error);
void	    reply_json(struct conn *, const struct buf *, const char *);
void reply_error(struct conn *, enum api_error, const char *, const char *);
void reply_image(struct conn *, const char *, const void *, size_t);
void reply_text(struct conn *, int, const char *, const struct buf *);
void reply_json_iov(struct conn *, const struct iovec *, int, size_t);
void reply_head(struct buf *, int, const char *, size_t);
void reply_format_frame(struct buf *, int, const char *, const char *, size_t);

#endif
