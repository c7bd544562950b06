/*
 * request: what a request says, decoded. Pure parsing, no I/O.
 *
 * fcgi.c fills a struct request from the FastCGI params and body; the
 * functions here decode its query string, form body and cookies into
 * name/value pairs held in the request's pool. Nothing here trusts its
 * input: every length is checked, malformed percent-escapes and repeated
 * names are errors, and values keep their length (they may hold NULs).
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#ifndef CHATD_REQUEST_H
#define CHATD_REQUEST_H

#include <stddef.h>

#include "buf.h"

#define REQUEST_MAX_PARAMS 32

struct param {
	struct str name;
	struct str value;
};

struct params {
	struct param v[REQUEST_MAX_PARAMS];
	size_t	     n;
};

struct request {
	struct pool   *pool;
	const char    *method; /* REQUEST_METHOD */
	const char    *path;   /* DOCUMENT_URI: decoded, normalized */
	const char    *query;  /* QUERY_STRING, raw */
	const char    *content_type;
	const char    *cookie;	       /* HTTP_COOKIE */
	const char    *session_header; /* HTTP_X_CHAT_SESSION */
	const char    *csrf_header;    /* HTTP_X_CSRF_TOKEN */
	const char    *remote_addr;
	const char    *https; /* HTTPS: "on" over TLS */
	const char    *nick;  /* the session's, once known (for the log) */
	struct str     body;
	int	       body_too_large;
	int	       multipart_ok; /* the route takes multipart/form-data */
	int	       frame;	     /* answer inside an HTML page (?frame=1) */
	const char    *file;	     /* the multipart part "file", or NULL */
	size_t	       file_len;
	struct params *query_args; /* in the pool, once parsed */
	struct params *form_args;
};

const char *request_decode_pairs(
    struct pool *, const char *, size_t, struct params *);
const char	 *request_parse_query(struct request *);
const char	 *request_parse_body(struct request *);
const struct str *request_arg(const struct request *, const char *);
const struct str *request_query_arg(const struct request *, const char *);
int		  request_cookie(const char *, const char *, struct str *);
int		  request_is_form(const char *);
int request_parse_int(const struct str *, long long, long long, long long *);

#endif
