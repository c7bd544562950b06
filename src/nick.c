/*
 * nick: the keys that make look-alike nicks one nick, and the script rule
 * (see nick.h), by ICU.
 *
 * A nick is shown as typed, in NFC. Two nicks are one when either of two
 * keys is equal (store.c keeps each unique among live sessions):
 *
 *   skeleton       F(pre(NFC(nick)))
 *   skeleton_caps  F(skeleton(upper(fold(pre(NFC(nick))))))
 *
 * where fold is Unicode's full case folding, skeleton is UTS #39's
 * confusable skeleton (ICU's uspoof_getSkeleton, which works on NFD), and
 * F repeats fold then skeleton until nothing changes (skeleton and fold
 * each undo the other's work: Cherokee folds to capitals, the skeleton of
 * capital I is l). The first key catches what looks alike in lower case
 * ("аlice" with a Cyrillic a, "rn" for "m", "ａｌｉｃｅ", Armenian "օ"),
 * the second what looks alike in capitals ("ѕуѕтем", all Cyrillic, is
 * SYSTEM; Greek "ΑΒΕ" is "ABE"; Cherokee "ᏚᎩᏚᎢᎬᎷ" is SYSTEM). Both fold
 * first, so case never makes two nicks.
 *
 * pre() is the one look-alike table left: UTS #39's confusables map only
 * some fullwidth letters to ASCII (not "ｔ" or "ｍ", so "ｓｙｓｔｅｍ" would
 * pass) and no circled letter, so these two blocks are mapped to the ASCII
 * they imitate first. The mathematical alphanumerics are ICU's.
 *
 * The script rule is UTS #39's "highly restrictive" level: one script, or
 * Latin with Han and Japanese kana, with Han and Hangul, or with Han and
 * Bopomofo (digits and punctuation count for none); no digits of two
 * numbering systems, no combining mark repeated.
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/uspoof.h>
#include <unicode/ustring.h>

#include "nick.h"
#include "utf8.h"
#include "xmalloc.h"

/* Longer input is never a nick (24 characters); the keys refuse it. */
#define NICK_KEY_MAX_BYTES 1024
/* F stops here even if a round still changed something. */
#define NICK_KEY_ROUNDS 8

/* A UTF-16 string of ICU's, on the heap. */
struct ustr {
	UChar  *p;
	int32_t len;
};

/* One ICU transformation of in into dst (cap UChars), preflight or not. */
typedef int32_t (*ustr_op)(
    const struct ustr *in, UChar *dst, int32_t cap, UErrorCode *);

/*
 * The process's spoof checker, made at the first call: highly
 * restrictive, no mixed numbers, no repeated marks. It stays reachable
 * from here until exit (a leak checker sees no leak). NULL if ICU fails.
 */
static USpoofChecker *
checker(void)
{
	static USpoofChecker *sc;
	static int	      tried;
	UErrorCode	      e = U_ZERO_ERROR;

	if (tried)
		return sc;
	tried = 1;
	sc = uspoof_open(&e);
	uspoof_setChecks(sc,
	    USPOOF_RESTRICTION_LEVEL | USPOOF_INVISIBLE | USPOOF_MIXED_NUMBERS,
	    &e);
	uspoof_setRestrictionLevel(sc, USPOOF_HIGHLY_RESTRICTIVE);
	if (U_FAILURE(e)) {
		uspoof_close(sc);
		sc = NULL;
	}
	return sc;
}

/* Replace *s with op(*s), sized by a preflight. -1 if ICU fails. */
static int
ustr_apply(struct ustr *s, ustr_op op)
{
	UErrorCode e = U_ZERO_ERROR;
	UChar	  *d;
	int32_t	   n;

	n = op(s, NULL, 0, &e);
	if (U_FAILURE(e) && e != U_BUFFER_OVERFLOW_ERROR)
		return -1;
	d = xmalloc(((size_t)n + 1) * sizeof *d);
	e = U_ZERO_ERROR;
	n = op(s, d, n + 1, &e);
	if (U_FAILURE(e)) {
		free(d);
		return -1;
	}
	free(s->p);
	s->p = d;
	s->len = n;
	return 0;
}

static int32_t
op_nfc(const struct ustr *in, UChar *dst, int32_t cap, UErrorCode *e)
{
	const UNormalizer2 *nfc = unorm2_getNFCInstance(e);

	if (U_FAILURE(*e))
		return 0;
	return unorm2_normalize(nfc, in->p, in->len, dst, cap, e);
}

static int32_t
op_fold(const struct ustr *in, UChar *dst, int32_t cap, UErrorCode *e)
{
	return u_strFoldCase(dst, cap, in->p, in->len, U_FOLD_CASE_DEFAULT, e);
}

static int32_t
op_upper(const struct ustr *in, UChar *dst, int32_t cap, UErrorCode *e)
{
	return u_strToUpper(dst, cap, in->p, in->len, "", e);
}

static int32_t
op_skeleton(const struct ustr *in, UChar *dst, int32_t cap, UErrorCode *e)
{
	USpoofChecker *sc = checker();

	if (sc == NULL) {
		*e = U_INTERNAL_PROGRAM_ERROR;
		return 0;
	}
	return uspoof_getSkeleton(sc, 0, in->p, in->len, dst, cap, e);
}

/*
 * The ASCII letter or digit that cp imitates in the blocks UTS #39 leaves
 * (partly) out: fullwidth forms (U+FF01-FF5E) and circled letters
 * (U+24B6-24E9). Else cp itself.
 */
static uint32_t
ascii_lookalike(uint32_t cp)
{
	if (cp >= 0xff01 && cp <= 0xff5e)
		return cp - 0xfee0;
	if (cp >= 0x24b6 && cp <= 0x24cf)
		return 'A' + (cp - 0x24b6);
	if (cp >= 0x24d0 && cp <= 0x24e9)
		return 'a' + (cp - 0x24d0);
	return cp;
}

/* s, of len bytes of UTF-8, into *out (UTF-16), after pre() if asked. */
static int
ustr_from_utf8(const char *s, size_t len, int pre, struct ustr *out)
{
	size_t	 i = 0;
	uint32_t cp;
	int	 k;

	/* (A NUL would cut the key short where it is a C string.) */
	if (len > NICK_KEY_MAX_BYTES || memchr(s, '\0', len) != NULL)
		return -1;
	out->p = xmalloc((len + 1) * sizeof *out->p);
	out->len = 0;
	while (i < len) {
		if ((k = utf8_decode(s + i, len - i, &cp)) < 0)
			return -1;
		if (pre)
			cp = ascii_lookalike(cp);
		U16_APPEND_UNSAFE(out->p, out->len, cp);
		i += (size_t)k;
	}
	return 0;
}

/* Append s, UTF-16, to out as UTF-8. */
static int
ustr_to_utf8(const struct ustr *s, struct buf *out)
{
	UErrorCode e = U_ZERO_ERROR;
	int32_t	   n;

	u_strToUTF8(NULL, 0, &n, s->p, s->len, &e);
	if (U_FAILURE(e) && e != U_BUFFER_OVERFLOW_ERROR)
		return -1;
	buf_reserve(out, (size_t)n + 1);
	e = U_ZERO_ERROR;
	u_strToUTF8(out->data + out->len, n + 1, NULL, s->p, s->len, &e);
	if (U_FAILURE(e))
		return -1;
	out->len += (size_t)n;
	out->data[out->len] = '\0';
	return 0;
}

/* F: fold then skeleton, again until *s holds still. */
static int
fold_skeleton(struct ustr *s)
{
	UChar  *was = NULL;
	int32_t was_len = -1;
	int	round, r = -1;

	for (round = 0; round < NICK_KEY_ROUNDS; round++) {
		free(was);
		was = xmalloc(((size_t)s->len + 1) * sizeof *was);
		memcpy(was, s->p, (size_t)s->len * sizeof *was);
		was_len = s->len;
		if (ustr_apply(s, op_fold) == -1 ||
		    ustr_apply(s, op_skeleton) == -1)
			goto out;
		if (s->len == was_len &&
		    memcmp(s->p, was, (size_t)was_len * sizeof *was) == 0)
			break;
	}
	r = 0;
out:
	free(was);
	return r;
}

/* Append the NFC form of the nick s to out. -1 if s is not UTF-8. */
int
nick_nfc(const char *s, size_t len, struct buf *out)
{
	struct ustr u = { NULL, 0 };
	int	    r = -1;

	/* (No pre() here: what is shown is what was typed.) */
	if (ustr_from_utf8(s, len, 0, &u) == 0 && ustr_apply(&u, op_nfc) == 0 &&
	    ustr_to_utf8(&u, out) == 0)
		r = 0;
	free(u.p);
	return r;
}

/*
 * Append the case-folded NFC form of s to out: the order in which the
 * online list is sorted. -1 if s is not UTF-8.
 */
int
nick_fold(const char *s, size_t len, struct buf *out)
{
	struct ustr u = { NULL, 0 };
	int	    r = -1;

	if (ustr_from_utf8(s, len, 0, &u) == 0 && ustr_apply(&u, op_nfc) == 0 &&
	    ustr_apply(&u, op_fold) == 0 && ustr_to_utf8(&u, out) == 0)
		r = 0;
	free(u.p);
	return r;
}

void
nick_keys_init(struct nick_keys *k)
{
	buf_init(&k->skeleton);
	buf_init(&k->skeleton_caps);
}

void
nick_keys_free(struct nick_keys *k)
{
	buf_free(&k->skeleton);
	buf_free(&k->skeleton_caps);
}

/*
 * The two keys of the nick s into *k (initialized; they are appended
 * to). -1 if s is not UTF-8, holds a NUL, is too long, or ICU fails.
 */
int
nick_keys(const char *s, size_t len, struct nick_keys *k)
{
	struct ustr low = { NULL, 0 }, caps = { NULL, 0 };
	int	    r = -1;

	if (ustr_from_utf8(s, len, 1, &low) == -1 ||
	    ustr_apply(&low, op_nfc) == -1)
		goto out;
	caps.p = xmalloc(((size_t)low.len + 1) * sizeof *caps.p);
	memcpy(caps.p, low.p, (size_t)low.len * sizeof *caps.p);
	caps.len = low.len;
	if (fold_skeleton(&low) == -1 || ustr_apply(&caps, op_fold) == -1 ||
	    ustr_apply(&caps, op_upper) == -1 ||
	    ustr_apply(&caps, op_skeleton) == -1 || fold_skeleton(&caps) == -1)
		goto out;
	if (ustr_to_utf8(&low, &k->skeleton) == -1 ||
	    ustr_to_utf8(&caps, &k->skeleton_caps) == -1)
		goto out;
	r = 0;
out:
	free(low.p);
	free(caps.p);
	return r;
}

/* Whether two keys are equal. */
static int
buf_same(const struct buf *a, const struct buf *b)
{
	return a->len == b->len && memcmp(a->data, b->data, a->len) == 0;
}

/* Whether either key of k is one of the reserved nick "system". */
int
nick_is_system(const struct nick_keys *k)
{
	static struct nick_keys sys;
	static int		made;

	if (!made) {
		nick_keys_init(&sys);
		if (nick_keys("system", 6, &sys) == -1) {
			nick_keys_free(&sys);
			return 1; /* refuse all rather than let one pass */
		}
		made = 1;
	}
	return buf_same(&k->skeleton, &sys.skeleton) ||
	    buf_same(&k->skeleton_caps, &sys.skeleton_caps);
}

/*
 * Why the nick s (valid UTF-8, NFC) breaks the script rule, for people;
 * NULL if it does not.
 */
const char *
nick_mixed_scripts(const char *s, size_t len)
{
	USpoofChecker *sc = checker();
	UErrorCode     e = U_ZERO_ERROR;
	int32_t	       r;

	if (sc == NULL || len > NICK_KEY_MAX_BYTES)
		return "The nick cannot be checked.";
	r = uspoof_check2UTF8(sc, s, (int32_t)len, NULL, &e);
	if (U_FAILURE(e))
		return "The nick cannot be checked.";
	if (r & USPOOF_MIXED_NUMBERS)
		return "The nick mixes digits of different scripts.";
	if (r & USPOOF_RESTRICTION_LEVEL)
		return "The nick mixes scripts (such as Latin letters with "
		       "Cyrillic or Greek ones that look alike): write it in "
		       "one script.";
	if (r & USPOOF_INVISIBLE)
		return "The nick repeats a combining mark.";
	return NULL;
}
