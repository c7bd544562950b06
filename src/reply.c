/*
 * reply: statuses, headers and JSON bodies (see reply.h).
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "log.h"
#include "metrics.h"
#include "reply.h"

#define FRAME_MIN 600	 /* bytes of a ?frame=1 page, at least */
#define LOG_PATH_MAX 120 /* bytes of a path in the log */

static struct reply_counts counts;

static const struct {
	const char *code;
	int	    status;
} api_errors[] = {
	[API_BAD_NICK] = { "bad_nick", 400 },
	[API_NICK_TAKEN] = { "nick_taken", 409 },
	[API_NO_SESSION] = { "no_session", 401 },
	[API_BAD_CSRF] = { "bad_csrf", 403 },
	[API_BAD_TEXT] = { "bad_text", 400 },
	[API_BAD_ROOM] = { "bad_room", 400 },
	[API_TOO_LARGE] = { "too_large", 413 },
	[API_BAD_IMAGE] = { "bad_image", 400 },
	[API_NO_SUCH_USER] = { "no_such_user", 404 },
	[API_RATE_LIMITED] = { "rate_limited", 429 },
	[API_BAD_REQUEST] = { "bad_request", 400 },
	[API_NOT_FOUND] = { "not_found", 404 },
	[API_METHOD_NOT_ALLOWED] = { "method_not_allowed", 405 },
	[API_UNAVAILABLE] = { "unavailable", 503 },
};

const char *
reply_error_code(enum api_error e)
{
	return api_errors[e].code;
}

int
reply_error_status(enum api_error e)
{
	return api_errors[e].status;
}

/* The counts since the last call, which starts them again. */
void
reply_counts_take(struct reply_counts *out)
{
	*out = counts;
	memset(&counts, 0, sizeof counts);
}

/* s for a log line: bytes other than printable ASCII as \xHH, cut short. */
static void
log_safe(const char *s, char *out, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	size_t		  n = 0;
	unsigned char	  ch;

	for (; s != NULL && *s != '\0' && n + 5 < size; s++) {
		ch = (unsigned char)*s;
		if (ch > 0x20 && ch < 0x7f && ch != '\\') {
			out[n++] = (char)ch;
			continue;
		}
		out[n++] = '\\';
		out[n++] = 'x';
		out[n++] = hex[ch >> 4];
		out[n++] = hex[ch & 15];
	}
	out[n] = '\0';
	if (s != NULL && *s != '\0' && n + 3 < size)
		memcpy(out + n, "...", 4);
}

/*
 * Count the answer, and log it: at info if it failed, else at debug. A
 * parked poll has only its route left.
 */
static void
log_answer(const struct conn *c, int status, const char *code)
{
	const struct request *r = &c->req;
	const char	     *path = r->path ? r->path : c->route;
	enum log_level	      level = status >= 400 ? LOG_INFO : LOG_DEBUG;
	char		      safe[LOG_PATH_MAX + 8];

	counts.requests++;
	if (status >= 400)
		counts.failed++;
	else if (c->route != NULL && r->method != NULL &&
	    strcmp(r->method, "POST") == 0 &&
	    (strcmp(c->route, "/api/send") == 0 ||
		strcmp(c->route, "/api/image") == 0))
		counts.sends++;
	if (!log_enabled(level))
		return;
	log_safe(path, safe, sizeof safe);
	log_msg(level, "request: %d %s %s %s nick=%s %lld ms", status,
	    code ? code : "-", r->method ? r->method : "-", path ? safe : "-",
	    r->nick ? r->nick : "-", (long long)(loop_now() - c->started_ms));
}

static const char *
status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	}
	return "Unknown";
}

/*
 * Format the head of a JSON answer as CGI output into out: status line,
 * the API's headers, extra_headers (each ending in CRLF, or NULL), and
 * the blank line after them; the body of len bytes follows.
 */
void
reply_head(struct buf *out, int status, const char *extra_headers, size_t len)
{
	static const char ok[] =
	    "Status: 200 OK\r\n"
	    "Content-Type: application/json; charset=utf-8\r\n"
	    "Cache-Control: no-store\r\n"
	    "X-Content-Type-Options: nosniff\r\n"
	    "Content-Length: ";
	char   digits[24];
	size_t n = sizeof digits;

	if (status != 200 || extra_headers != NULL) {
		buf_printf(out,
		    "Status: %d %s\r\n"
		    "Content-Type: application/json; charset=utf-8\r\n"
		    "Cache-Control: no-store\r\n"
		    "X-Content-Type-Options: nosniff\r\n"
		    "%s"
		    "Content-Length: %zu\r\n\r\n",
		    status, status_text(status),
		    extra_headers ? extra_headers : "", len);
		return;
	}
	/* Every delivered poll has this head: no printf for it. */
	do
		digits[--n] = (char)('0' + len % 10);
	while ((len /= 10) > 0);
	buf_reserve(out, sizeof ok + sizeof digits + 4);
	buf_add(out, ok, sizeof ok - 1);
	buf_add(out, digits + n, sizeof digits - n);
	buf_add(out, "\r\n\r\n", 4);
}

/*
 * The same answer as an HTML page, for an upload posted into a hidden
 * iframe (?frame=1): the page's one element, #result, holds the JSON as
 * text. The JSON needs no escaping there: json.c writes <, > and & as
 * \u escapes. The page may run nothing (Content-Security-Policy).
 */
void
reply_format_frame(struct buf *out, int status, const char *extra_headers,
    const char *body, size_t len)
{
	static const char head[] =
	    "<!DOCTYPE html>\n<html><head>"
	    "<meta charset=\"utf-8\"><title>chatd</title>"
	    "</head><body><pre id=\"result\">";
	/*
	 * Internet Explorer up to 8 shows a page of its own instead of a
	 * 4xx page shorter than 512 bytes, which would hide the JSON: a
	 * comment pads every frame page to FRAME_MIN bytes at least.
	 */
	static const char tail[] = "</pre>\n<!-- ?frame=1: an upload's "
				   "answer, padded for old browsers";
	static const char end[] = " -->\n</body></html>\n";
	size_t		  total, pad;

	total = sizeof head - 1 + len + sizeof tail - 1 + sizeof end - 1;
	pad = total < FRAME_MIN ? FRAME_MIN - total : 0;
	buf_printf(out,
	    "Status: %d %s\r\n"
	    "Content-Type: text/html; charset=utf-8\r\n"
	    "Cache-Control: no-store\r\n"
	    "X-Content-Type-Options: nosniff\r\n"
	    "Content-Security-Policy: default-src 'none'\r\n"
	    "%s"
	    "Content-Length: %zu\r\n\r\n",
	    status, status_text(status), extra_headers ? extra_headers : "",
	    total + pad);
	buf_add(out, head, sizeof head - 1);
	buf_add(out, body, len);
	buf_add(out, tail, sizeof tail - 1);
	while (pad-- > 0)
		buf_addc(out, '.');
	buf_add(out, end, sizeof end - 1);
}

/*
 * Send an answer, as JSON or (?frame=1) as its HTML page: its body is the
 * n buffers of body, len bytes in all, sent as they are after the head.
 */
static void
respond(struct conn *c, int status, const char *code, const char *extra_headers,
    const struct iovec *body, int n, size_t len)
{
	static struct buf head;	  /* kept: no allocation per answer */
	static struct buf joined; /* the body in one piece, when it must be */
	struct iovec	  v[REPLY_IOV_MAX + 1], one;
	int		  i;

	metrics_request(c->req.path, status);
	log_answer(c, status, code);
	buf_reset(&head);
	if ((c->req.frame && n > 1) || n > REPLY_IOV_MAX) {
		/* The page holds one string; v holds REPLY_IOV_MAX pieces. */
		buf_reset(&joined);
		for (i = 0; i < n; i++)
			buf_add(&joined, body[i].iov_base, body[i].iov_len);
		one.iov_base = joined.data;
		one.iov_len = joined.len;
		body = &one;
		n = 1;
	}
	if (c->req.frame) {
		reply_format_frame(&head, status, extra_headers,
		    n > 0 ? body[0].iov_base : "", n > 0 ? body[0].iov_len : 0);
		n = 0;
	} else
		reply_head(&head, status, extra_headers, len);
	v[0].iov_base = head.data;
	v[0].iov_len = head.len;
	for (i = 0; i < n; i++)
		v[i + 1] = body[i];
	conn_respond_iov(c, v, n + 1);
}

/* Answer 200 with the JSON object in body. */
void
reply_json(struct conn *c, const struct buf *body, const char *extra_headers)
{
	struct iovec v = { body->data, body->len };

	respond(c, 200, NULL, extra_headers, &v, 1, body->len);
}

/*
 * Answer 200 with a JSON object made of the n buffers of body (at most
 * REPLY_IOV_MAX), len bytes in all: written from where they are, so that
 * pieces that many answers share are not copied for each.
 */
void
reply_json_iov(struct conn *c, const struct iovec *body, int n, size_t len)
{
	respond(c, 200, NULL, NULL, body, n, len);
}

/*
 * Answer 200 with an image's bytes, of its type (one of those
 * validate_image gives), to keep in the browser's private cache: an
 * image never changes once stored.
 */
void
reply_image(struct conn *c, const char *type, const void *data, size_t len)
{
	struct iovec v[2];
	struct buf   out;

	metrics_request(c->req.path, 200);
	log_answer(c, 200, NULL);
	buf_init(&out);
	buf_printf(&out,
	    "Status: 200 OK\r\n"
	    "Content-Type: %s\r\n"
	    "X-Content-Type-Options: nosniff\r\n"
	    "Content-Disposition: inline\r\n"
	    "Content-Security-Policy: default-src 'none'\r\n"
	    "Cache-Control: private, max-age=31536000, immutable\r\n"
	    "Content-Length: %zu\r\n\r\n",
	    type, len);
	v[0].iov_base = out.data;
	v[0].iov_len = out.len;
	v[1].iov_base = (void *)(uintptr_t)data;
	v[1].iov_len = len;
	conn_respond_iov(c, v, 2);
	buf_free(&out);
}

/*
 * Answer status with body as it is, of type ctype (text, not JSON: the
 * metrics), with the API's other two headers.
 */
void
reply_text(
    struct conn *c, int status, const char *ctype, const struct buf *body)
{
	struct iovec v[2];
	struct buf   out;

	metrics_request(c->req.path, status);
	buf_init(&out);
	buf_printf(&out,
	    "Status: %d %s\r\n"
	    "Content-Type: %s\r\n"
	    "Cache-Control: no-store\r\n"
	    "X-Content-Type-Options: nosniff\r\n"
	    "Content-Length: %zu\r\n\r\n",
	    status, status_text(status), ctype, body->len);
	v[0].iov_base = out.data;
	v[0].iov_len = out.len;
	v[1].iov_base = body->data;
	v[1].iov_len = body->len;
	conn_respond_iov(c, v, 2);
	buf_free(&out);
}

/* Answer with an error: {"error": CODE, "message": TEXT}. */
void
reply_error(struct conn *c, enum api_error e, const char *message,
    const char *extra_headers)
{
	struct iovec v;
	struct buf   body;

	buf_init(&body);
	buf_addc(&body, '{');
	json_key(&body, "error");
	json_cstring(&body, api_errors[e].code);
	buf_addc(&body, ',');
	json_key(&body, "message");
	json_cstring(&body, message);
	buf_addc(&body, '}');
	v.iov_base = body.data;
	v.iov_len = body.len;
	respond(c, api_errors[e].status, api_errors[e].code, extra_headers, &v,
	    1, body.len);
	buf_free(&body);
}
