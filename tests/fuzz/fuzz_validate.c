/*
 * fuzz_validate: the rules for what users may send (src/validate.c) and
 * the UTF-8 decoder under them (src/utf8.c).
 *
 * Properties: utf8_decode accepts exactly what the independent validator
 * of fuzz.h accepts, and utf8_encode writes back the bytes it decoded; an
 * accepted nick, text or client id is valid UTF-8 and within its length;
 * an accepted nick is 1 to 24 characters, none of them a control, a line
 * or paragraph separator or an invisible formatting character, with no
 * white space at either end; it folds to valid UTF-8, folds to the same
 * key again (so two nicks that fold alike are one nick), and folds to
 * "system" only when refused as reserved; an accepted room is 1 to 32 of a-z,
 * 0-9 and -; an accepted image has one of the four types and that type's magic
 * bytes.
 */
#include <string.h>

#include "buf.h"
#include "fuzz.h"
#include "utf8.h"
#include "validate.h"

static void
check_utf8(const char *s, size_t len)
{
	size_t	 i = 0, n;
	uint32_t cp;
	char	 enc[4];
	int	 k, all = 1;

	while (i < len) {
		k = utf8_decode(s + i, len - i, &cp);
		if (k < 0) {
			all = 0;
			break;
		}
		FUZZ_CHECK(k >= 1 && k <= 4 && (size_t)k <= len - i);
		FUZZ_CHECK(cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff));
		utf8_encode(cp, enc, &n);
		FUZZ_CHECK(n == (size_t)k && memcmp(enc, s + i, n) == 0);
		i += (size_t)k;
	}
	FUZZ_CHECK(all == fuzz_utf8_valid((const unsigned char *)s, len));
}

/* Unicode's White_Space, from its property list (PropList.txt). */
static int
white_space(uint32_t cp)
{
	return (cp >= 0x09 && cp <= 0x0d) || cp == 0x20 || cp == 0x85 ||
	    cp == 0xa0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) ||
	    cp == 0x2028 || cp == 0x2029 || cp == 0x202f || cp == 0x205f ||
	    cp == 0x3000;
}

/* Characters no nick may hold: controls, separators, the invisible. */
static int
never_in_nick(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x2028 ||
	    cp == 0x2029 || cp == 0xad || (cp >= 0x200b && cp <= 0x200f) ||
	    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2060 && cp <= 0x2064) ||
	    cp == 0xfeff;
}

static void
check_nick(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	struct buf	     once, twice;
	const char	    *why;
	uint32_t	     cp = 0;
	size_t		     i = 0, chars = 0;
	int		     k;

	why = validate_nick(s, len);
	buf_init(&once);
	buf_init(&twice);
	validate_fold_nick(s, len, &once);
	if (why == NULL) {
		FUZZ_CHECK(fuzz_utf8_valid(u, len));
		while (i < len) {
			k = fuzz_utf8_next(u + i, len - i, &cp);
			FUZZ_CHECK(k > 0);
			FUZZ_CHECK(!never_in_nick(cp));
			FUZZ_CHECK(i > 0 || !white_space(cp));
			i += (size_t)k;
			chars++;
		}
		FUZZ_CHECK(!white_space(cp)); /* the last one */
		FUZZ_CHECK(chars >= 1 && chars <= NICK_MAX_CHARS);
		FUZZ_CHECK(
		    fuzz_utf8_valid((unsigned char *)once.data, once.len));
		validate_fold_nick(once.data, once.len, &twice);
		FUZZ_CHECK(twice.len == once.len &&
		    memcmp(twice.data, once.data, once.len) == 0);
		FUZZ_CHECK(
		    !(once.len == 6 && memcmp(once.data, "system", 6) == 0));
	} else if (once.len == 6 && memcmp(once.data, "system", 6) == 0)
		FUZZ_CHECK(strstr(why, "reserved") != NULL);
	buf_free(&twice);
	buf_free(&once);
}

static void
check_others(const char *s, size_t len)
{
	const char	    *type;
	const unsigned char *u = (const unsigned char *)s;
	size_t		     i;

	if (validate_text(s, len) == NULL)
		FUZZ_CHECK(len >= 1 && len <= 4 * TEXT_MAX_CHARS &&
		    fuzz_utf8_valid(u, len));
	if (validate_client_id(s, len) == NULL)
		FUZZ_CHECK(
		    len <= 4 * CLIENT_ID_MAX_CHARS && fuzz_utf8_valid(u, len));
	if (validate_room(s, len) == NULL) {
		FUZZ_CHECK(len >= 1 && len <= ROOM_MAX_BYTES);
		for (i = 0; i < len; i++)
			FUZZ_CHECK((s[i] >= 'a' && s[i] <= 'z') ||
			    (s[i] >= '0' && s[i] <= '9') || s[i] == '-');
	}
	if (validate_image(u, len, &type) == NULL) {
		FUZZ_CHECK(type != NULL);
		if (strcmp(type, "image/png") == 0)
			FUZZ_CHECK(len >= 16 && memcmp(s, "\x89PNG", 4) == 0);
		else if (strcmp(type, "image/jpeg") == 0)
			FUZZ_CHECK(
			    len >= 4 && memcmp(s, "\xff\xd8\xff", 3) == 0);
		else if (strcmp(type, "image/gif") == 0)
			FUZZ_CHECK(len >= 10 && memcmp(s, "GIF8", 4) == 0);
		else
			FUZZ_CHECK(strcmp(type, "image/webp") == 0 &&
			    len >= 16 && memcmp(s, "RIFF", 4) == 0 &&
			    memcmp(s + 8, "WEBPVP8", 7) == 0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;

	check_utf8(s, size);
	check_nick(s, size);
	check_others(s, size);
	return 0;
}
