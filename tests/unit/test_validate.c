/*
 * Unit tests of validate.c and nick.c: nicks (their rules, NFC, the
 * look-alike keys and the script rule), rooms, text, client ids.
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#include "nick.h"
#include "validate.h"
#include "tap.h"

#define NICK_OK(s) (validate_nick((s), strlen(s)) == NULL)
#define ROOM_OK(s) (validate_room((s), strlen(s)) == NULL)
#define TEXT_OK(s, n) (validate_text((s), (n)) == NULL)

/* Whether validate_nick refuses s with a message that holds word. */
static int
nick_refused(const char *s, const char *word)
{
	const char *why = validate_nick(s, strlen(s));

	if (why == NULL)
		return 0;
	if (strstr(why, word) == NULL) {
		printf("# %s: %s\n", s, why);
		return 0;
	}
	return 1;
}

/* Whether two bufs hold the same bytes. */
static int
buf_same(const struct buf *a, const struct buf *b)
{
	return a->len == b->len && memcmp(a->data, b->data, a->len) == 0;
}

/*
 * Which keys of a and b are equal: 1 for the skeleton, 2 for the one in
 * capitals, 3 for both, 0 for none (two nicks are one if not 0); -1 if a
 * key cannot be made.
 */
static int
same_keys(const char *a, const char *b)
{
	struct nick_keys ka, kb;
	int		 r = -1;

	nick_keys_init(&ka);
	nick_keys_init(&kb);
	if (nick_keys(a, strlen(a), &ka) == 0 &&
	    nick_keys(b, strlen(b), &kb) == 0)
		r = buf_same(&ka.skeleton, &kb.skeleton) |
		    buf_same(&ka.skeleton_caps, &kb.skeleton_caps) << 1;
	nick_keys_free(&ka);
	nick_keys_free(&kb);
	return r;
}

#define same_nick(a, b) (same_keys((a), (b)) > 0)

/* Whether the NFC form of s is want. */
static int
nfc_is(const char *s, const char *want)
{
	struct buf out;
	int	   r;

	buf_init(&out);
	r = nick_nfc(s, strlen(s), &out) == 0 && out.len == strlen(want) &&
	    memcmp(out.data, want, out.len) == 0;
	buf_free(&out);
	return r;
}

/* The rules of validate_nick that are not about look-alikes. */
static void
test_nick_rules(void)
{
	ok(NICK_OK("alice"), "a plain nick");
	ok(NICK_OK("Zo\xc3\xab \xe6\x9d\x8e"), "Latin with Han, a space");
	ok(NICK_OK("abcdefghijklmnopqrstuvwx"), "24 characters");
	ok(!NICK_OK("abcdefghijklmnopqrstuvwxy"), "25 characters");
	ok(NICK_OK(
	       "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	       "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	       "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	       "\xc3\xa9\xc3\xa9"),
	    "24 two-byte characters: characters count");
	ok(NICK_OK("eeeeeeeeeeeeeeeeeeeeeee"
		   "e\xcc\x81"),
	    "24 characters in NFC, 25 as typed (NFD): NFC counts");
	ok(!NICK_OK(""), "empty");
	ok(!NICK_OK(" alice"), "leading space");
	ok(!NICK_OK("alice "), "trailing space");
	ok(!NICK_OK("alice\xc2\xa0"), "trailing no-break space");
	ok(!NICK_OK("al\tice"), "a control character");
	ok(!NICK_OK("al\x7f"
		    "ice"),
	    "DEL");
	ok(!NICK_OK("al\xc2\x85ice"), "a C1 control");
	ok(!NICK_OK("ali\xe2\x80\x8b"
		    "ce"),
	    "a zero-width space");
	ok(!NICK_OK("\xe2\x80\xae"
		    "ecila"),
	    "a right-to-left override");
	ok(!NICK_OK("al\xffice"), "invalid UTF-8");
	ok(validate_nick("a\0b", 3) != NULL, "an embedded NUL");
}

/* Honest nicks of every script log in, and stay apart from others. */
static void
test_nick_honest(void)
{
	ok(NICK_OK("Мария"), "Мария (Cyrillic)");
	ok(NICK_OK("李雷"), "李雷 (Han)");
	ok(NICK_OK("محمد"), "محمد (Arabic)");
	ok(NICK_OK("José"), "José");
	ok(NICK_OK("Jose\xcc\x81"), "José with a combining accent");
	ok(NICK_OK("Zoë"), "Zoë");
	ok(NICK_OK("bob smith"), "bob smith");
	ok(NICK_OK("bob_2"), "bob_2");
	ok(NICK_OK("Νίκος") && NICK_OK("Արամ") && NICK_OK("ᏣᎳᎩ"),
	    "Greek, Armenian and Cherokee written in their script alone");
	ok(NICK_OK("山田たろう") && NICK_OK("김철수"),
	    "Han with kana, Hangul (highly restrictive allows them)");
	ok(!same_nick("Мария", "Maria") && !same_nick("alice", "alicia") &&
		!same_nick("bob", "bab") && !same_nick("李雷", "李电"),
	    "different nicks are different");
}

/* Nicks that read alike are one nick: same_keys. */
static void
test_nick_keys(void)
{
	ok(same_keys("ALICE", "alice") == 3 && same_keys("Alice", "aLICE") == 3,
	    "case: both keys");
	ok(same_keys("\xc3\x89MILE", "\xc3\xa9mile") == 3,
	    "Latin-1 case folds");
	ok(same_keys("ΣΟΦΙΑ", "σοφια") == 3, "Greek case folds");
	ok(same_keys("ИВАН", "иван") == 3, "Cyrillic case folds");
	ok(same_keys("аlice", "alice") & 1, "аlice (Cyrillic а) is alice");
	ok(same_keys("ａｌｉｃｅ", "alice") == 3, "fullwidth alice is alice");
	ok(same_nick("ｆｒｅｄ", "fred") && same_nick("ｂｏｂ１２", "bob12") &&
		same_nick("ＤＡＮＡ", "dana"),
	    "fullwidth letters and digits UTS #39 leaves out (nick.c's table)");
	ok(same_keys("Jose\xcc\x81", "José") == 3 &&
		nfc_is("Jose\xcc\x81", "José"),
	    "NFD José is NFC José, and is shown in NFC");
	ok(same_keys("ѕуѕтем", "system") & 2,
	    "ѕуѕтем (Cyrillic) is system, as it looks: SYSTEM");
	ok(same_keys("ΑΒΕ", "abe") & 2, "Greek ΑΒΕ is ABE in capitals");
	ok(same_keys("ορο", "opo") & 1, "Greek ορο is opo in lower case");
	ok(same_keys("ᏚᎩᏚᎢᎬᎷ", "System") == 3, "Cherokee ᏚᎩᏚᎢᎬᎷ is SYSTEM");
	ok(same_nick("օօօ", "ooo"), "Armenian օ (U+0585) is o");
	ok(same_nick("rnary", "mary"), "rn is m");
	ok(same_nick("𝐚𝐥𝐢𝐜𝐞", "alice"), "mathematical bold alice is alice");
	ok(same_nick("bob\xf0\x9d\x9f\x99", "BOB1"), "a double-struck 1 is 1");
	ok(same_nick("ⓐlice", "alice") && !same_nick("\xe2\x93\x90", "b"),
	    "circled a is a, not b");
}

/* What may not be a nick: mixed scripts, and all that looks like system. */
static void
test_nick_refused(void)
{
	ok(nick_refused("sуstem", "mixes scripts"), "sуstem (Cyrillic у)");
	ok(nick_refused("аlice", "mixes scripts"), "аlice (Cyrillic а)");
	ok(nick_refused("Αlice", "mixes scripts"), "Αlice (Greek Α)");
	ok(nick_refused("bοb", "mixes scripts"), "bοb (Greek ο)");
	ok(nick_refused("bօb", "mixes scripts"), "bօb (Armenian օ)");
	ok(nick_refused("Ꭺlice", "mixes scripts"), "Ꭺlice (Cherokee Ꭺ)");
	ok(nick_refused("bob1٣", "digits") && nick_refused("محمد1٣", "digits"),
	    "digits of two systems");
	ok(nick_refused("system", "reserved"), "system is reserved");
	ok(nick_refused("SyStEm", "reserved"), "in any case");
	ok(nick_refused("ѕуѕтем", "reserved"), "ѕуѕтем, all Cyrillic");
	ok(nick_refused("ЅУЅТЕМ", "reserved"), "ЅУЅТЕМ, all Cyrillic");
	ok(nick_refused("ᏚᎩᏚᎢᎬᎷ", "reserved"), "ᏚᎩᏚᎢᎬᎷ, all Cherokee");
	ok(nick_refused("ｓｙｓｔｅｍ", "reserved"), "fullwidth system");
	ok(nick_refused("𝐬𝐲𝐬𝐭𝐞𝐦", "reserved"), "mathematical bold system");
	ok(nick_refused("\xe2\x93\x88ystem", "reserved"), "circled-S ystem");
	ok(nick_refused("ſystem", "reserved"), "long s ystem");
}

int
main(void)
{
	char text[8100];
	int  i;

	test_nick_rules();
	test_nick_honest();
	test_nick_keys();
	test_nick_refused();

	ok(ROOM_OK("lobby") && ROOM_OK("a-1") && ROOM_OK("0"), "rooms");
	ok(ROOM_OK("abcdefghijklmnopqrstuvwxyz012345"), "32 characters");
	ok(!ROOM_OK("abcdefghijklmnopqrstuvwxyz0123456"), "33 characters");
	ok(!ROOM_OK(""), "empty room");
	ok(!ROOM_OK("Lobby"), "capitals");
	ok(!ROOM_OK("a b") && !ROOM_OK("a_b") && !ROOM_OK("caf\xc3\xa9"),
	    "space, underscore, non-ASCII");

	ok(TEXT_OK("hi", 2), "text");
	ok(TEXT_OK("line\nline\ttab", 13), "newlines and tabs");
	ok(!TEXT_OK("", 0), "empty text");
	ok(TEXT_OK("a\0b", 3) && TEXT_OK("a\x1b[31m", 6),
	    "control characters are text too (docs/api.md: any valid UTF-8)");
	ok(!TEXT_OK("\xc3", 1), "truncated UTF-8");
	for (i = 0; i < 2000; i++)
		memcpy(text + 4 * i, "\xf0\x9f\x98\x80", 4);
	ok(TEXT_OK(text, 8000), "2000 four-byte characters");
	memcpy(text + 8000, "a", 1);
	ok(!TEXT_OK(text, 8001), "2001 characters");

	ok(validate_client_id("m-1", 3) == NULL, "client id");
	memset(text, 'x', 65);
	ok(validate_client_id(text, 64) == NULL, "64 characters");
	ok(validate_client_id(text, 65) != NULL, "65 characters");
	ok(validate_client_id("a\nb", 3) != NULL, "control characters");
	return tap_done();
}
