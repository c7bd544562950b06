/*
 * request: query strings, form bodies and cookies (see request.h).
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#include <limits.h>
#include <string.h>
#include <strings.h>

#include "multipart.h"
#include "request.h"

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Percent-decode s[0..len) into the pool ('+' is a space, as in forms).
 * Returns -1 for a malformed escape.
 */
static int
url_decode(struct pool *pool, const char *s, size_t len, struct str *out)
{
	char  *d;
	size_t i, n = 0;
	int    hi, lo;

	d = pool_alloc(pool, len + 1);
	for (i = 0; i < len; i++) {
		if (s[i] == '+')
			d[n++] = ' ';
		else if (s[i] == '%') {
			if (i + 2 >= len)
				return -1;
			hi = hex_value(s[i + 1]);
			lo = hex_value(s[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			d[n++] = (char)(hi << 4 | lo);
			i += 2;
		} else
			d[n++] = s[i];
	}
	d[n] = '\0';
	out->p = d;
	out->len = n;
	return 0;
}

static const struct param *
params_find(const struct params *ps, const char *name, size_t len)
{
	size_t i;

	if (ps == NULL)
		return NULL;
	for (i = 0; i < ps->n; i++) {
		if (ps->v[i].name.len == len &&
		    memcmp(ps->v[i].name.p, name, len) == 0)
			return &ps->v[i];
	}
	return NULL;
}

/*
 * Decode "a=1&b=2" (query string or urlencoded form) into ps. Empty
 * pieces ("a=1&&b=2") are skipped. Returns NULL, or what is wrong.
 */
const char *
request_decode_pairs(
    struct pool *pool, const char *s, size_t len, struct params *ps)
{
	const char  *end = s + len, *amp, *eq;
	struct param p;

	ps->n = 0;
	while (s < end) {
		amp = memchr(s, '&', (size_t)(end - s));
		if (amp == NULL)
			amp = end;
		if (amp == s) {
			s++;
			continue;
		}
		eq = memchr(s, '=', (size_t)(amp - s));
		if (eq == NULL)
			eq = amp;
		if (url_decode(pool, s, (size_t)(eq - s), &p.name) == -1)
			return "A parameter has a malformed %-escape.";
		if (url_decode(pool, eq < amp ? eq + 1 : amp,
			(size_t)(amp - (eq < amp ? eq + 1 : amp)),
			&p.value) == -1)
			return "A parameter has a malformed %-escape.";
		if (params_find(ps, p.name.p, p.name.len) != NULL)
			return "A parameter appears twice.";
		if (ps->n == REQUEST_MAX_PARAMS)
			return "Too many parameters.";
		ps->v[ps->n++] = p;
		s = amp;
	}
	return NULL;
}

/* Is this Content-Type an urlencoded form (any charset parameter)? */
int
request_is_form(const char *ct)
{
	static const char form[] = "application/x-www-form-urlencoded";
	size_t		  n = sizeof form - 1;

	if (ct == NULL || strncasecmp(ct, form, n) != 0)
		return 0;
	return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ';
}

/*
 * Decode the query string. Returns NULL, or what is wrong with it (a
 * bad_request).
 */
const char *
request_parse_query(struct request *r)
{
	r->query_args = pool_alloc(r->pool, sizeof *r->query_args);
	r->form_args = pool_alloc(r->pool, sizeof *r->form_args);
	r->form_args->n = 0;
	return request_decode_pairs(r->pool, r->query ? r->query : "",
	    r->query ? strlen(r->query) : 0, r->query_args);
}

/*
 * Decode the body: an urlencoded form, or multipart/form-data where the
 * route takes it (then the part "file" goes to r->file). After
 * request_parse_query. Returns NULL, or what is wrong (a bad_request).
 */
const char *
request_parse_body(struct request *r)
{
	struct multipart m;
	const char	*err;

	if (r->body.len == 0)
		return NULL;
	if (r->multipart_ok && request_is_multipart(r->content_type)) {
		err = multipart_parse(
		    r->pool, r->content_type, r->body.p, r->body.len, &m);
		if (err != NULL)
			return err;
		*r->form_args = m.fields;
		r->file = m.file;
		r->file_len = m.file_len;
		return NULL;
	}
	if (!request_is_form(r->content_type))
		return r->multipart_ok ?
		    "The body must be multipart/form-data." :
		    "The body must be application/x-www-form-urlencoded.";
	return request_decode_pairs(
	    r->pool, r->body.p, r->body.len, r->form_args);
}

/* A query-string argument, or NULL. */
const struct str *
request_query_arg(const struct request *r, const char *name)
{
	const struct param *p;

	p = params_find(r->query_args, name, strlen(name));
	return p ? &p->value : NULL;
}

/* An argument: from the form on a POST, from the query string otherwise. */
const struct str *
request_arg(const struct request *r, const char *name)
{
	const struct param *p;

	if (r->method != NULL && strcmp(r->method, "POST") == 0)
		p = params_find(r->form_args, name, strlen(name));
	else
		p = params_find(r->query_args, name, strlen(name));
	return p ? &p->value : NULL;
}

/*
 * Find the first cookie called name in a Cookie header
 * ("a=1; name=value"). Returns 1 and sets *out, or 0.
 */
int
request_cookie(const char *header, const char *name, struct str *out)
{
	size_t	    nlen = strlen(name);
	const char *s = header, *end;

	if (s == NULL)
		return 0;
	while (*s != '\0') {
		while (*s == ' ' || *s == ';' || *s == '\t')
			s++;
		end = strchr(s, ';');
		if (end == NULL)
			end = s + strlen(s);
		if ((size_t)(end - s) > nlen && strncmp(s, name, nlen) == 0 &&
		    s[nlen] == '=') {
			out->p = s + nlen + 1;
			out->len = (size_t)(end - out->p);
			while (out->len > 0 && out->p[out->len - 1] == ' ')
				out->len--;
			return 1;
		}
		s = end;
	}
	return 0;
}

/*
 * Parse a decimal integer in [min, max] with nothing around it.
 * Returns 0 and sets *out, or -1.
 */
int
request_parse_int(
    const struct str *s, long long min, long long max, long long *out)
{
	long long v = 0;
	size_t	  i = 0;
	int	  neg = 0;

	if (s == NULL || s->len == 0 || s->len > 20)
		return -1;
	if (s->p[0] == '-') {
		neg = 1;
		i = 1;
		if (s->len == 1)
			return -1;
	}
	for (; i < s->len; i++) {
		if (s->p[i] < '0' || s->p[i] > '9')
			return -1;
		if (v > (LLONG_MAX - (s->p[i] - '0')) / 10)
			return -1; /* it would overflow */
		v = v * 10 + (s->p[i] - '0');
	}
	if (neg)
		v = -v;
	if (v < min || v > max)
		return -1;
	*out = v;
	return 0;
}
