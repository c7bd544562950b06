/*
 * validate: nick, room, text and client id rules (see validate.h).
 *
 * Nicks are what other people see as a name, so they get the strictest
 * rules: besides control characters, invisible formatting characters
 * (zero-width spaces, bidirectional overrides) are refused, because they
 * let one person pose as another. Two nicks are the same nick when their
 * case-folded forms are equal (validate_fold_nick), for every script the C
 * library's Unicode tables know, not only ASCII.
 */
#include <locale.h>
#include <stdint.h>
#include <string.h>
#include <wctype.h>

#include "utf8.h"
#include "validate.h"

/* C0, DEL and C1 control characters. */
static int
is_control(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

/* Unicode white space (the White_Space property). */
static int
is_space(uint32_t cp)
{
	return cp == 0x20 || (cp >= 0x09 && cp <= 0x0d) || cp == 0x85 ||
	    cp == 0xa0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) ||
	    cp == 0x2028 || cp == 0x2029 || cp == 0x202f || cp == 0x205f ||
	    cp == 0x3000;
}

/* Invisible format characters that can disguise a nick (category Cf). */
static int
is_invisible(uint32_t cp)
{
	return cp == 0xad || cp == 0x34f || cp == 0x61c || cp == 0x115f ||
	    cp == 0x1160 || cp == 0x180e || (cp >= 0x200b && cp <= 0x200f) ||
	    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2060 && cp <= 0x206f) ||
	    cp == 0x3164 || (cp >= 0xfe00 && cp <= 0xfe0f) || cp == 0xfeff ||
	    cp == 0xffa0 || (cp >= 0xfff0 && cp <= 0xfffb) ||
	    (cp >= 0xe0000 && cp <= 0xe0fff);
}

/*
 * Count the characters of s, checking each with reject(); returns the
 * count, -1 for invalid UTF-8, -2 if reject() refused a character.
 */
static long
count_chars(const char *s, size_t len, int (*reject)(uint32_t), uint32_t *first,
    uint32_t *last)
{
	size_t	 i = 0;
	long	 n = 0;
	uint32_t cp = 0;
	int	 k;

	while (i < len) {
		k = utf8_decode(s + i, len - i, &cp);
		if (k < 0)
			return -1;
		if (reject != NULL && reject(cp))
			return -2;
		if (n == 0 && first != NULL)
			*first = cp;
		i += (size_t)k;
		n++;
	}
	if (last != NULL)
		*last = cp;
	return n;
}

static int
nick_rejects(uint32_t cp)
{
	return is_control(cp) || is_invisible(cp) || cp == 0x2028 ||
	    cp == 0x2029;
}

const char *
validate_nick(const char *s, size_t len)
{
	struct buf folded;
	uint32_t   first = 0, last = 0;
	long	   n;
	int	   reserved;

	n = count_chars(s, len, nick_rejects, &first, &last);
	if (n == -1)
		return "The nick is not valid UTF-8.";
	if (n == -2)
		return "The nick has a control or invisible character.";
	if (n < 1 || n > NICK_MAX_CHARS)
		return "A nick is 1 to 24 characters.";
	if (is_space(first) || is_space(last))
		return "A nick cannot start or end with a space.";
	buf_init(&folded);
	validate_fold_nick(s, len, &folded);
	reserved = folded.len == 6 && memcmp(folded.data, "system", 6) == 0;
	buf_free(&folded);
	if (reserved)
		return "The nick \"system\" is reserved.";
	return NULL;
}

const char *
validate_room(const char *s, size_t len)
{
	size_t i;

	if (len < 1 || len > ROOM_MAX_BYTES)
		return "A room name is 1 to 32 characters.";
	for (i = 0; i < len; i++) {
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
			(s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return "A room name is made of a-z, 0-9 and -.";
	}
	return NULL;
}

const char *
validate_text(const char *s, size_t len)
{
	long n;

	/*
	 * API.md asks only for valid UTF-8 here (unlike nicks): control
	 * characters are the reader's to render; json.c escapes them all.
	 */
	n = count_chars(s, len, NULL, NULL, NULL);
	if (n == -1)
		return "The text is not valid UTF-8.";
	if (n < 1)
		return "The text is empty.";
	if (n > TEXT_MAX_CHARS)
		return "The text is longer than 2000 characters.";
	return NULL;
}

const char *
validate_client_id(const char *s, size_t len)
{
	long n;

	n = count_chars(s, len, is_control, NULL, NULL);
	if (n < 0)
		return "client_id must be UTF-8 text without control characters.";
	if (n > CLIENT_ID_MAX_CHARS)
		return "client_id is longer than 64 characters.";
	return NULL;
}

/*
 * The type of an image, judged by its first bytes only (never by a file
 * name or a declared type): PNG, JPEG, GIF or WebP into *type, and NULL;
 * else why not. An empty file is no image.
 */
const char *
validate_image(const unsigned char *p, size_t len, const char **type)
{
	static const unsigned char png[] = { 0x89, 'P', 'N', 'G', '\r', '\n',
		0x1a, '\n' };

	*type = NULL;
	if (len >= 16 && memcmp(p, png, sizeof png) == 0 &&
	    memcmp(p + 12, "IHDR", 4) == 0)
		*type = "image/png";
	else if (len >= 4 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff)
		*type = "image/jpeg";
	else if (len >= 10 &&
	    (memcmp(p, "GIF87a", 6) == 0 || memcmp(p, "GIF89a", 6) == 0))
		*type = "image/gif";
	else if (len >= 16 && memcmp(p, "RIFF", 4) == 0 &&
	    memcmp(p + 8, "WEBPVP8", 7) == 0)
		*type = "image/webp";
	if (*type == NULL)
		return len == 0 ?
		    "The file is empty." :
		    "Only PNG, JPEG, GIF and WebP images are accepted.";
	return NULL;
}

/* The C.UTF-8 locale, whose tables know the case of every script. */
static locale_t
fold_locale(void)
{
	static locale_t loc;
	static int	tried;

	if (!tried) {
		tried = 1;
		loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	}
	return loc;
}

/*
 * The ASCII letter or digit that cp is a look-alike of, where Unicode's
 * compatibility mapping (NFKC) says so for a whole block: fullwidth forms
 * (U+FF01-FF5E), mathematical alphanumerics (bold, italic, script...,
 * U+1D400-1D6A3 and the digits U+1D7CE-1D7FF) and circled letters
 * (U+24B6-24E9). Else cp itself. Not all of NFKC (the C library has no
 * tables for it), but the blocks that spell any ASCII nick, "system"
 * included, in another guise.
 */
static uint32_t
ascii_lookalike(uint32_t cp)
{
	uint32_t r;

	if (cp >= 0xff01 && cp <= 0xff5e)
		return cp - 0xfee0;
	if (cp >= 0x1d400 && cp <= 0x1d6a3) {
		r = (cp - 0x1d400) % 52;
		return r < 26 ? 'A' + r : 'a' + (r - 26);
	}
	if (cp >= 0x1d7ce && cp <= 0x1d7ff)
		return '0' + (cp - 0x1d7ce) % 10;
	if (cp >= 0x24b6 && cp <= 0x24cf)
		return 'A' + (cp - 0x24b6);
	if (cp >= 0x24d0 && cp <= 0x24e9)
		return 'a' + (cp - 0x24d0);
	return cp;
}

/*
 * Append the case-folded form of the nick s to out: the key under which
 * nicks are unique, so that two nicks that read alike are one nick (case,
 * and the look-alikes of ascii_lookalike). Invalid bytes are copied as
 * they are (validate first).
 */
void
validate_fold_nick(const char *s, size_t len, struct buf *out)
{
	locale_t loc = fold_locale();
	uint32_t cp;
	size_t	 i = 0, n;
	char	 enc[4];
	int	 k;

	while (i < len) {
		k = utf8_decode(s + i, len - i, &cp);
		if (k < 0) {
			buf_addc(out, s[i++]);
			continue;
		}
		cp = ascii_lookalike(cp);
		if (cp < 0x80)
			cp = (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
		else if (loc != (locale_t)0)
			cp = (uint32_t)towlower_l(
			    towupper_l((wint_t)cp, loc), loc);
		/* Never let folding produce something that is not a scalar. */
		if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			cp = 0xfffd;
		utf8_encode(cp, enc, &n);
		buf_add(out, enc, n);
		i += (size_t)k;
	}
}
