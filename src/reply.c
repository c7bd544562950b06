/*
 * reply: statuses, headers and JSON bodies (see reply.h).
 */
#include <string.h>

#include "json.h"
#include "reply.h"

static const struct {
	const char	*code;
	int		 status;
} api_errors[] = {
	[API_BAD_NICK] =		{ "bad_nick", 400 },
	[API_NICK_TAKEN] =		{ "nick_taken", 409 },
	[API_NO_SESSION] =		{ "no_session", 401 },
	[API_BAD_CSRF] =		{ "bad_csrf", 403 },
	[API_BAD_TEXT] =		{ "bad_text", 400 },
	[API_BAD_ROOM] =		{ "bad_room", 400 },
	[API_TOO_LARGE] =		{ "too_large", 413 },
	[API_BAD_IMAGE] =		{ "bad_image", 400 },
	[API_NO_SUCH_USER] =		{ "no_such_user", 404 },
	[API_RATE_LIMITED] =		{ "rate_limited", 429 },
	[API_BAD_REQUEST] =		{ "bad_request", 400 },
	[API_NOT_FOUND] =		{ "not_found", 404 },
	[API_METHOD_NOT_ALLOWED] =	{ "method_not_allowed", 405 },
	[API_UNAVAILABLE] =		{ "unavailable", 503 },
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
	case 503: return "Service Unavailable";
	}
	return "Unknown";
}

/*
 * Format a JSON answer as CGI output into out: status line, the API's
 * headers, extra_headers (each ending in CRLF, or NULL), the body.
 */
void
reply_format(struct buf *out, int status, const char *extra_headers,
    const char *body, size_t len)
{
	buf_printf(out, "Status: %d %s\r\n"
	    "Content-Type: application/json; charset=utf-8\r\n"
	    "Cache-Control: no-store\r\n"
	    "X-Content-Type-Options: nosniff\r\n"
	    "%s"
	    "Content-Length: %zu\r\n\r\n",
	    status, status_text(status), extra_headers ? extra_headers : "",
	    len);
	buf_add(out, body, len);
}

/* Answer 200 with the JSON object in body. */
void
reply_json(struct conn *c, const struct buf *body, const char *extra_headers)
{
	struct buf	out;

	buf_init(&out);
	reply_format(&out, 200, extra_headers, body->data, body->len);
	conn_respond(c, out.data, out.len);
	buf_free(&out);
}

/* Answer with an error: {"error": CODE, "message": TEXT}. */
void
reply_error(struct conn *c, enum api_error e, const char *message,
    const char *extra_headers)
{
	struct buf	body, out;

	buf_init(&body);
	buf_init(&out);
	buf_addc(&body, '{');
	json_key(&body, "error");
	json_cstring(&body, api_errors[e].code);
	buf_addc(&body, ',');
	json_key(&body, "message");
	json_cstring(&body, message);
	buf_addc(&body, '}');
	reply_format(&out, api_errors[e].status, extra_headers, body.data,
	    body.len);
	conn_respond(c, out.data, out.len);
	buf_free(&body);
	buf_free(&out);
}
