/*
 * fuzz_validate: the rules for what users may send (src/validate.c) and
 * the UTF-8 decoder under them (src/utf8.c).
 *
 * Properties: utf8_decode accepts exactly what the independent validator
 * of fuzz.h accepts, and utf8_encode writes back the bytes it decoded; an
 * accepted nick, text or client id is valid UTF-8 and within its length;
 * an accepted nick has no control, line or paragraph separator or
 * invisible formatting character, and its NFC form is 1 to 24 characters
 * with no white space at either end; any valid UTF-8 without a NUL has
 * look-alike keys (src/nick.c; with a NUL, none), valid UTF-8, non-empty
 * for an accepted nick; the keys are
 * those of the NFC and of the NFD form, of the nick in capitals and in
 * lower case (case never makes two nicks, U+0345 aside); the skeleton key is
 * its own skeleton key (the key is a fixed point); no accepted nick has a key
 * of "system"; an accepted room is 1 to 32 of a-z, 0-9 and -; an accepted image
 * has one of the four types and that type's magic bytes.
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#include <string.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>

#include "buf.h"
#include "fuzz.h"
#include "nick.h"
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

/* The bytes of two bufs are equal. */
static int
same(const struct buf *a, const struct buf *b)
{
	return a->len == b->len && memcmp(a->data, b->data, a->len) == 0;
}

/*
 * s (valid UTF-8) through one ICU transformation into out: NFD ('d'),
 * capitals ('u') or lower case ('l'). 0, or -1 if ICU says no.
 */
static int
icu_form(const char *s, size_t len, int how, struct buf *out)
{
	static UChar	    a[4096], b[4 * 4096];
	static char	    u8[4 * 4 * 4096];
	UErrorCode	    e = U_ZERO_ERROR;
	const UNormalizer2 *nfd;
	int32_t		    n, m;

	u_strFromUTF8(a, 4096, &n, s, (int32_t)len, &e);
	if (U_FAILURE(e))
		return -1;
	if (how == 'd') {
		nfd = unorm2_getNFDInstance(&e);
		m = unorm2_normalize(nfd, a, n, b, 4 * 4096, &e);
	} else if (how == 'u')
		m = u_strToUpper(b, 4 * 4096, a, n, "", &e);
	else
		m = u_strToLower(b, 4 * 4096, a, n, "", &e);
	u_strToUTF8(u8, (int32_t)sizeof u8, &n, b, m, &e);
	if (U_FAILURE(e))
		return -1;
	buf_add(out, u8, (size_t)n);
	return 0;
}

/* The keys of s equal k's (both of them), after ICU's form how of s. */
static void
check_keys_of(const char *s, size_t len, int how, const struct nick_keys *k)
{
	struct nick_keys k2;
	struct buf	 form;

	buf_init(&form);
	nick_keys_init(&k2);
	if (icu_form(s, len, how, &form) == 0 && form.len <= 1024) {
		FUZZ_CHECK(nick_keys(form.data, form.len, &k2) == 0);
		FUZZ_CHECK(same(&k->skeleton, &k2.skeleton));
		FUZZ_CHECK(same(&k->skeleton_caps, &k2.skeleton_caps));
	}
	nick_keys_free(&k2);
	buf_free(&form);
}

/* The properties of the look-alike keys, for s valid UTF-8. */
static void
check_keys(const char *s, size_t len, int accepted)
{
	struct nick_keys k, again;
	struct buf	 nfc;

	nick_keys_init(&k);
	nick_keys_init(&again);
	buf_init(&nfc);
	FUZZ_CHECK(nick_keys(s, len, &k) == 0);
	FUZZ_CHECK(
	    fuzz_utf8_valid((unsigned char *)k.skeleton.data, k.skeleton.len));
	FUZZ_CHECK(fuzz_utf8_valid(
	    (unsigned char *)k.skeleton_caps.data, k.skeleton_caps.len));
	if (accepted) {
		FUZZ_CHECK(k.skeleton.len > 0 && k.skeleton_caps.len > 0);
		FUZZ_CHECK(!nick_is_system(&k));
	}
	FUZZ_CHECK(nick_nfc(s, len, &nfc) == 0);
	check_keys_of(nfc.data, nfc.len, 'd', &k);
	check_keys_of(s, len, 'd', &k);
	/*
	 * U+0345, the one combining mark with a case, becomes a capital
	 * iota (a base letter) in capitals, so the marks around it attach
	 * elsewhere: a nick holding it may differ from its capitals.
	 */
	if (memmem(s, len, "\xcd\x85", 2) == NULL) {
		check_keys_of(s, len, 'u', &k);
		check_keys_of(s, len, 'l', &k);
	}
	if (k.skeleton.len <= 1024) {
		FUZZ_CHECK(
		    nick_keys(k.skeleton.data, k.skeleton.len, &again) == 0);
		FUZZ_CHECK(same(&k.skeleton, &again.skeleton));
	}
	buf_free(&nfc);
	nick_keys_free(&again);
	nick_keys_free(&k);
}

static void
check_nick(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	struct nick_keys     keys;
	struct buf	     nfc;
	const char	    *why;
	uint32_t	     cp = 0;
	size_t		     i = 0, chars = 0;
	int		     k;

	why = validate_nick(s, len);
	if (why == NULL) {
		FUZZ_CHECK(fuzz_utf8_valid(u, len));
		while (i < len) {
			k = fuzz_utf8_next(u + i, len - i, &cp);
			FUZZ_CHECK(k > 0);
			FUZZ_CHECK(!never_in_nick(cp));
			i += (size_t)k;
		}
		buf_init(&nfc);
		FUZZ_CHECK(nick_nfc(s, len, &nfc) == 0);
		u = (const unsigned char *)nfc.data;
		for (i = 0; i < nfc.len; i += (size_t)k, chars++) {
			k = fuzz_utf8_next(u + i, nfc.len - i, &cp);
			FUZZ_CHECK(k > 0);
			FUZZ_CHECK(i > 0 || !white_space(cp));
		}
		FUZZ_CHECK(!white_space(cp)); /* the last one */
		FUZZ_CHECK(chars >= 1 && chars <= NICK_MAX_CHARS);
		buf_free(&nfc);
	}
	if (fuzz_utf8_valid((const unsigned char *)s, len) && len <= 1024 &&
	    memchr(s, '\0', len) == NULL)
		check_keys(s, len, why == NULL);
	else if (memchr(s, '\0', len) != NULL) {
		nick_keys_init(&keys);
		FUZZ_CHECK(nick_keys(s, len, &keys) == -1);
		nick_keys_free(&keys);
	}
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
