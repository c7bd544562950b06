/*
 * multipart: multipart/form-data bodies (see multipart.h).
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "multipart.h"

#define BOUNDARY_MAX 70	     /* RFC 2046 */
#define HEADER_LINE_MAX 4096 /* a long file name, percent-encoded */
#define PART_HEADERS_MAX 8

static const char form_data[] = "multipart/form-data";

/* Is this Content-Type multipart/form-data (with parameters)? */
int
request_is_multipart(const char *ct)
{
	size_t n = sizeof form_data - 1;

	if (ct == NULL || strncasecmp(ct, form_data, n) != 0)
		return 0;
	return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ';
}

/* RFC 2046's bchars: what a boundary may be made of. */
static int
is_bchar(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z') ||
	    (c != '\0' && strchr("'()+_,-./:=? ", c) != NULL);
}

static const char *
skip_space(const char *s, const char *end)
{
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	return s;
}

/*
 * Find the parameter name (case-insensitive) in "; a=b; c="d"" from s to
 * end: its value into *v and *vlen. 0 if found, 1 if absent, -1 if the
 * list is malformed.
 */
static int
header_param(const char *s, const char *end, const char *name, const char **v,
    size_t *vlen)
{
	const char *n, *eq, *val;
	size_t	    len, nlen = strlen(name);

	for (;;) {
		s = skip_space(s, end);
		if (s == end)
			return 1;
		if (*s++ != ';')
			return -1;
		s = skip_space(s, end);
		n = s;
		while (s < end && *s != '=' && *s != ';' && *s != ' ' &&
		    *s != '\t')
			s++;
		eq = s;
		if (eq == n || eq == end || *eq != '=')
			return -1;
		s++;
		if (s < end && *s == '"') {
			val = ++s;
			while (s < end && *s != '"') {
				if (*s == '\\' && s + 1 < end)
					s++;
				s++;
			}
			if (s == end)
				return -1;
			len = (size_t)(s - val);
			s++;
		} else {
			val = s;
			while (s < end && *s != ';' && *s != ' ' && *s != '\t')
				s++;
			len = (size_t)(s - val);
		}
		if ((size_t)(eq - n) == nlen &&
		    strncasecmp(n, name, nlen) == 0) {
			*v = val;
			*vlen = len;
			return 0;
		}
	}
}

/* The boundary of a multipart Content-Type into b (NUL-ended), or -1. */
static int
get_boundary(const char *ct, char b[BOUNDARY_MAX + 1])
{
	const char *v, *end = ct + strlen(ct);
	size_t	    len, i;

	if (!request_is_multipart(ct))
		return -1;
	if (header_param(
		ct + sizeof form_data - 1, end, "boundary", &v, &len) != 0 ||
	    len == 0 || len > BOUNDARY_MAX || v[len - 1] == ' ')
		return -1;
	for (i = 0; i < len; i++)
		if (!is_bchar(v[i]))
			return -1;
	memcpy(b, v, len);
	b[len] = '\0';
	return 0;
}

/*
 * Read a part's header lines from *s (up to and with the blank line),
 * finding the form field's name in its Content-Disposition. NULL, or
 * what is wrong.
 */
static const char *
part_headers(
    const char **s, const char *end, const char **name, size_t *name_len)
{
	const char *line, *eol, *colon, *v;
	size_t	    len;
	int	    lines = 0, seen = 0;

	*name = NULL;
	*name_len = 0;
	for (;;) {
		line = *s;
		eol = memmem(line, (size_t)(end - line), "\r\n", 2);
		if (eol == NULL)
			return "A part of the form has unfinished headers.";
		*s = eol + 2;
		if (eol == line)
			break;
		if (eol - line > HEADER_LINE_MAX || ++lines > PART_HEADERS_MAX)
			return "A part of the form has too many or too long "
			       "headers.";
		if (*line == ' ' || *line == '\t' ||
		    (colon = memchr(line, ':', (size_t)(eol - line))) == NULL)
			return "A part of the form has a malformed header.";
		if ((size_t)(colon - line) !=
			sizeof "Content-Disposition" - 1 ||
		    strncasecmp(line, "Content-Disposition",
			(size_t)(colon - line)) != 0)
			continue;
		if (seen++)
			return "A part of the form has two Content-Dispositions.";
		v = skip_space(colon + 1, eol);
		if ((size_t)(eol - v) < sizeof "form-data" - 1 ||
		    strncasecmp(v, "form-data", sizeof "form-data" - 1) != 0)
			return "A part of the form is not form-data.";
		v += sizeof "form-data" - 1;
		if (header_param(v, eol, "name", name, &len) == -1)
			return "A part of the form has a malformed "
			       "Content-Disposition.";
		*name_len = len;
	}
	if (*name == NULL || *name_len == 0)
		return "A part of the form has no name.";
	return NULL;
}

/* Is there a field or file of this name already? */
static int
taken(const struct multipart *m, const char *name, size_t len)
{
	size_t i;

	if (len == 4 && memcmp(name, "file", 4) == 0)
		return m->file != NULL;
	for (i = 0; i < m->fields.n; i++)
		if (m->fields.v[i].name.len == len &&
		    memcmp(m->fields.v[i].name.p, name, len) == 0)
			return 1;
	return 0;
}

/*
 * Parse body[0..len), of Content-Type ct, into m. NULL, or what is wrong
 * (for a bad_request).
 */
const char *
multipart_parse(struct pool *pool, const char *ct, const char *body, size_t len,
    struct multipart *m)
{
	char	      b[BOUNDARY_MAX + 1], delim[BOUNDARY_MAX + 5];
	const char   *s = body, *end = body + len, *name, *content, *next;
	const char   *why;
	size_t	      dlen, name_len;
	struct param *p;

	memset(m, 0, sizeof *m);
	if (ct == NULL || get_boundary(ct, b) == -1)
		return "The form's Content-Type has no usable boundary.";
	dlen = (size_t)snprintf(delim, sizeof delim, "\r\n--%s", b);
	/* The first delimiter opens the body, or ends a preamble. */
	if ((size_t)len >= dlen - 2 && memcmp(s, delim + 2, dlen - 2) == 0)
		s += dlen - 2;
	else if ((s = memmem(body, len, delim, dlen)) != NULL)
		s += dlen;
	else
		return "The form has no boundary line.";
	for (;;) {
		if (end - s >= 2 && s[0] == '-' && s[1] == '-')
			return NULL; /* the close delimiter */
		s = skip_space(s, end);
		if (end - s < 2 || s[0] != '\r' || s[1] != '\n')
			return "The form has a malformed boundary line.";
		s += 2;
		if ((why = part_headers(&s, end, &name, &name_len)) != NULL)
			return why;
		content = s;
		next = memmem(s, (size_t)(end - s), delim, dlen);
		if (next == NULL)
			return "The form ends before its last boundary.";
		if (taken(m, name, name_len))
			return "A parameter appears twice.";
		if (name_len == 4 && memcmp(name, "file", 4) == 0) {
			m->file = content;
			m->file_len = (size_t)(next - content);
		} else {
			if (m->fields.n == REQUEST_MAX_PARAMS)
				return "Too many parameters.";
			p = &m->fields.v[m->fields.n++];
			p->name.p = pool_strndup(pool, name, name_len);
			p->name.len = name_len;
			p->value.p = pool_strndup(
			    pool, content, (size_t)(next - content));
			p->value.len = (size_t)(next - content);
		}
		s = next + dlen;
	}
}
