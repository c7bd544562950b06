/*
 * validate: nick, room, text and client id rules (see validate.h).
 *
 * Nicks are what other people see as a name, so they get the strictest
 * rules, all so that nobody can pose as somebody else: control characters
 * and invisible formatting characters (zero-width spaces, bidirectional
 * overrides) are refused; the nick is judged in NFC (nick_nfc), the form
 * it is shown in, so "José" typed with a combining accent is "José"; it
 * may not mix scripts beyond UTS #39's "highly restrictive" level
 * (nick_mixed_scripts: no "sуstem" with a Cyrillic у, while "Мария",
 * "李雷" and "محمد" are nicks); and no nick whose look-alike keys are
 * those of "system" (nick_keys, nick_is_system: "SYSTEM", "ѕуѕтем",
 * "ｓｙｓｔｅｍ"). Which nicks are one nick is nick.c's, by the same keys.
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#include <stdint.h>
#include <string.h>

#include "nick.h"
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

/* The checks of a nick that ICU makes, on its NFC form nfc. */
static const char *
nick_icu_rules(const struct buf *nfc)
{
	struct nick_keys keys;
	const char	*why;
	int		 r;

	if ((why = nick_mixed_scripts(nfc->data, nfc->len)) != NULL)
		return why;
	nick_keys_init(&keys);
	r = nick_keys(nfc->data, nfc->len, &keys);
	if (r == 0 && nick_is_system(&keys))
		why = "The nick \"system\" is reserved, and so is every nick "
		      "that looks like it.";
	else if (r == -1)
		why = "The nick cannot be checked.";
	nick_keys_free(&keys);
	return why;
}

const char *
validate_nick(const char *s, size_t len)
{
	struct buf  nfc;
	const char *why = NULL;
	uint32_t    first = 0, last = 0;
	long	    n;

	n = count_chars(s, len, nick_rejects, NULL, NULL);
	if (n == -1)
		return "The nick is not valid UTF-8.";
	if (n == -2)
		return "The nick has a control or invisible character.";
	/* (Room for combining marks that NFC will compose.) */
	if (n < 1 || n > 4 * NICK_MAX_CHARS)
		return "A nick is 1 to 24 characters.";
	buf_init(&nfc);
	if (nick_nfc(s, len, &nfc) == -1) {
		why = "The nick cannot be checked.";
		goto out;
	}
	n = count_chars(nfc.data, nfc.len, nick_rejects, &first, &last);
	if (n < 1 || n > NICK_MAX_CHARS)
		why = "A nick is 1 to 24 characters.";
	else if (is_space(first) || is_space(last))
		why = "A nick cannot start or end with a space.";
	else
		why = nick_icu_rules(&nfc);
out:
	buf_free(&nfc);
	return why;
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
	 * docs/api.md asks only for valid UTF-8 here (unlike nicks): control
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
