/*
 * json: JSON encoding (see json.h for the escaping rules and why).
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "utf8.h"

static void
json_u_escape(struct buf *b, uint32_t cp)
{
	static const char hex[] = "0123456789abcdef";
	char		  e[6] = { '\\', 'u', 0, 0, 0, 0 };

	e[2] = hex[(cp >> 12) & 0xf];
	e[3] = hex[(cp >> 8) & 0xf];
	e[4] = hex[(cp >> 4) & 0xf];
	e[5] = hex[cp & 0xf];
	buf_add(b, e, sizeof e);
}

/* Append s (len bytes) as a quoted, escaped JSON string. */
void
json_string(struct buf *b, const char *s, size_t len)
{
	size_t	 i = 0, start;
	uint32_t cp;
	int	 n;

	buf_reserve(b, len + 2);
	buf_addc(b, '"');
	while (i < len) {
		/* Copy the longest run that needs no escaping in one go. */
		start = i;
		while (i < len) {
			unsigned char c = (unsigned char)s[i];
			if (c < 0x20 || c == '"' || c == '\\' || c == '<' ||
			    c == '>' || c == '&' || c >= 0x80)
				break;
			i++;
		}
		buf_add(b, s + start, i - start);
		if (i >= len)
			break;
		n = utf8_decode(s + i, len - i, &cp);
		if (n < 0) {
			json_u_escape(b, 0xfffd);
			i++;
			continue;
		}
		i += (size_t)n;
		switch (cp) {
		case '"': buf_add(b, "\\\"", 2); break;
		case '\\': buf_add(b, "\\\\", 2); break;
		case '\n': buf_add(b, "\\n", 2); break;
		case '\r': buf_add(b, "\\r", 2); break;
		case '\t': buf_add(b, "\\t", 2); break;
		default:
			if (cp < 0x20 || cp == '<' || cp == '>' || cp == '&' ||
			    cp == 0x2028 || cp == 0x2029)
				json_u_escape(b, cp);
			else
				buf_add(b, s + i - n, (size_t)n);
		}
	}
	buf_addc(b, '"');
}

void
json_cstring(struct buf *b, const char *s)
{
	json_string(b, s, strlen(s));
}

/* Append v in decimal: by hand, as printf costs more than the rest. */
void
json_int(struct buf *b, int64_t v)
{
	char	 digits[24];
	size_t	 n = sizeof digits;
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

	do
		digits[--n] = (char)('0' + u % 10);
	while ((u /= 10) > 0);
	if (v < 0)
		digits[--n] = '-';
	buf_add(b, digits + n, sizeof digits - n);
}

/* Append "key": (the caller adds the separating commas). */
void
json_key(struct buf *b, const char *key)
{
	json_cstring(b, key);
	buf_addc(b, ':');
}
