/*
 * search: a person's words as an FTS5 expression (see search.h).
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#include <stdint.h>

#include "search.h"
#include "utf8.h"

/* Does cp end a word? ASCII white space and every control character. */
static int
is_separator(uint32_t cp)
{
	return cp <= 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

/*
 * The FTS5 expression of the words of q (len bytes) into out: each word
 * as an FTS5 string, joined by spaces. NULL if q is 1 to
 * SEARCH_MAX_CHARS characters of valid UTF-8 with at least one word in
 * it, else a sentence for people saying what is wrong.
 */
const char *
search_expr(const char *q, size_t len, struct buf *out)
{
	size_t	 i = 0;
	uint32_t cp;
	long	 chars = 0;
	int	 k, in_word = 0;

	buf_reset(out);
	while (i < len) {
		if ((k = utf8_decode(q + i, len - i, &cp)) < 0)
			return "q is not valid UTF-8.";
		if (++chars > SEARCH_MAX_CHARS)
			return "q is longer than 200 characters.";
		if (is_separator(cp)) {
			if (in_word)
				buf_addc(out, '"');
			in_word = 0;
		} else {
			if (!in_word)
				buf_adds(out, out->len > 0 ? " \"" : "\"");
			in_word = 1;
			if (cp == '"')
				buf_addc(out, '"');
			buf_add(out, q + i, (size_t)k);
		}
		i += (size_t)k;
	}
	if (in_word)
		buf_addc(out, '"');
	if (chars == 0)
		return "q is empty.";
	if (out->len == 0)
		return "q has no words in it.";
	return NULL;
}
