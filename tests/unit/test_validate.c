/*
 * Unit tests of validate.c: nicks, rooms, text, client ids, case folding.
 */
#include "validate.h"
#include "tap.h"

#define NICK_OK(s) (validate_nick((s), strlen(s)) == NULL)
#define ROOM_OK(s) (validate_room((s), strlen(s)) == NULL)
#define TEXT_OK(s, n) (validate_text((s), (n)) == NULL)

static int
same_nick(const char *a, const char *b)
{
	struct buf fa, fb;
	int	   same;

	buf_init(&fa);
	buf_init(&fb);
	validate_fold_nick(a, strlen(a), &fa);
	validate_fold_nick(b, strlen(b), &fb);
	same = fa.len == fb.len && memcmp(fa.data, fb.data, fa.len) == 0;
	buf_free(&fa);
	buf_free(&fb);
	return same;
}

int
main(void)
{
	char text[8100];
	int  i;

	ok(NICK_OK("alice"), "a plain nick");
	ok(NICK_OK("Zo\xc3\xab \xe6\x9d\x8e"),
	    "letters of any script, a space");
	ok(NICK_OK("abcdefghijklmnopqrstuvwx"), "24 characters");
	ok(!NICK_OK("abcdefghijklmnopqrstuvwxy"), "25 characters");
	ok(NICK_OK(
	       "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	       "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	       "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	       "\xc3\xa9\xc3\xa9"),
	    "24 two-byte characters: characters count");
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
	ok(!NICK_OK("system"), "system is reserved");
	ok(!NICK_OK("SyStEm"), "in any case");
	ok(validate_nick("a\0b", 3) != NULL, "an embedded NUL");

	ok(same_nick("Alice", "aLICE"), "ASCII case folds");
	ok(same_nick("\xc3\x89MILE", "\xc3\xa9mile"), "Latin-1 case folds");
	ok(same_nick("\xce\xa3\xce\x9f\xce\xa6\xce\x99\xce\x91",
	       "\xcf\x83\xce\xbf\xcf\x86\xce\xb9\xce\xb1"),
	    "Greek case folds");
	ok(same_nick("\xd0\x98\xd0\x92\xd0\x90\xd0\x9d",
	       "\xd0\xb8\xd0\xb2\xd0\xb0\xd0\xbd"),
	    "Cyrillic case folds");
	ok(!same_nick("alice", "alicia"), "different nicks differ");
	ok(!NICK_OK("\xef\xbd\x93\xef\xbd\x99\xef\xbd\x93\xef\xbd\x94"
		    "\xef\xbd\x85\xef\xbd\x8d"),
	    "fullwidth system is reserved too");
	ok(!NICK_OK("\xf0\x9d\x90\xac\xf0\x9d\x90\xb2\xf0\x9d\x90\xac"
		    "\xf0\x9d\x90\xad\xf0\x9d\x90\x9e\xf0\x9d\x90\xa6"),
	    "so is mathematical bold system");
	ok(!NICK_OK("\xe2\x93\x88ystem"), "and circled-S ystem");
	ok(same_nick("\xef\xbc\xa1lice", "alice"), "fullwidth A is a");
	ok(same_nick("bob\xf0\x9d\x9f\x99", "BOB1"), "a double-struck 1 is 1");
	ok(!same_nick("\xe2\x93\x90", "b"), "circled a is a, not b");

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
