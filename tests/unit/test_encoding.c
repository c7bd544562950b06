/*
 * Unit tests of the byte-level encoders: FastCGI records (conn.c), the
 * HTTP answer (reply.c), events as JSON and their visibility (event.c),
 * SHA-256 (sha256.c) and the options (conf.c).
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#include <stdint.h>

#include "conf.h"
#include "conn.h"
#include "event.h"
#include "reply.h"
#include "sha256.h"
#include "tap.h"

/* conn_frame_make's records of data, one after another, into b. */
static void
encode_records(struct buf *b, int request_id, const char *data, size_t len)
{
	struct conn_frame f;
	struct iovec	  v = { (void *)(uintptr_t)data, len };
	int		  i;

	conn_frame_make(&f, request_id, &v, 1);
	for (i = 0; i < f.n; i++)
		buf_add(b, f.iov[i].iov_base, f.iov[i].iov_len);
	conn_frame_free(&f);
}

static void
test_records(void)
{
	struct buf	     b;
	const unsigned char *p;
	static char	     big[70000];

	buf_init(&b);
	encode_records(&b, 0x1234, "abc", 3);
	p = (const unsigned char *)b.data;
	ok(b.len == 8 + 3 + 5 + 8 + 16,
	    "one STDOUT record padded to 8, "
	    "the empty STDOUT, END_REQUEST");
	ok(p[0] == 1 && p[1] == 6 && p[2] == 0x12 && p[3] == 0x34 &&
		p[4] == 0 && p[5] == 3 && p[6] == 5,
	    "STDOUT header");
	ok(memcmp(p + 8, "abc", 3) == 0, "the data");
	ok(p[16] == 1 && p[17] == 6 && p[20] == 0 && p[21] == 0,
	    "the empty STDOUT record ends the stream");
	ok(p[25] == 3 && p[29] == 8 && p[32 + 4] == 0,
	    "END_REQUEST, 8 bytes, REQUEST_COMPLETE");
	buf_reset(&b);
	memset(big, 'x', sizeof big);
	encode_records(&b, 1, big, sizeof big);
	p = (const unsigned char *)b.data;
	ok(p[4] == 0xff && p[5] == 0xff, "a record holds at most 65535 bytes");
	ok(b.len ==
		8 + 65535 + 1 + 8 + (sizeof big - 65535) +
		    (8 - (sizeof big - 65535) % 8) % 8 + 8 + 16,
	    "a large answer is split in two records");
	buf_free(&b);
}

static void
test_reply(void)
{
	struct buf b;

	buf_init(&b);
	reply_head(&b, 429, "Retry-After: 3\r\n", 2);
	buf_add(&b, "{}", 2);
	ok_bytes(b.data, b.len,
	    "Status: 429 Too Many Requests\r\n"
	    "Content-Type: application/json; charset=utf-8\r\n"
	    "Cache-Control: no-store\r\n"
	    "X-Content-Type-Options: nosniff\r\n"
	    "Retry-After: 3\r\n"
	    "Content-Length: 2\r\n\r\n{}",
	    "an answer's head and body");
	buf_free(&b);
	ok(reply_error_status(API_NICK_TAKEN) == 409 &&
		strcmp(reply_error_code(API_NICK_TAKEN), "nick_taken") == 0,
	    "nick_taken is 409");
	ok(reply_error_status(API_UNAVAILABLE) == 503 &&
		reply_error_status(API_TOO_LARGE) == 413 &&
		reply_error_status(API_METHOD_NOT_ALLOWED) == 405 &&
		reply_error_status(API_RATE_LIMITED) == 429 &&
		reply_error_status(API_NO_SESSION) == 401 &&
		reply_error_status(API_BAD_CSRF) == 403,
	    "the statuses of docs/api.md");
}

static void
test_events(void)
{
	struct event e;
	struct buf   b;

	memset(&e, 0, sizeof e);
	e.id = 42;
	e.ts = 1764068400123LL;
	e.type = "message";
	e.room = "lobby";
	e.from = "alice";
	e.text = "hi <b>";
	e.text_len = 6;
	e.online = -1;
	e.sender_session = 7;
	buf_init(&b);
	event_json(&b, &e);
	ok_bytes(b.data, b.len,
	    "{\"id\":42,\"ts\":1764068400123,"
	    "\"type\":\"message\",\"room\":\"lobby\",\"from\":\"alice\","
	    "\"text\":\"hi \\u003cb\\u003e\"}",
	    "a message as JSON");
	ok(event_visible(&e, "lobby", 9), "a message is seen in its room");
	ok(!event_visible(&e, "other", 9), "not in another room");
	e.type = "private";
	e.room = NULL;
	e.to = "bob";
	e.recipient_session = 8;
	ok(event_visible(&e, "lobby", 7) && event_visible(&e, "x", 8),
	    "a private message is seen by sender and recipient");
	ok(!event_visible(&e, "lobby", 9) && !event_visible(&e, "lobby", 0),
	    "and by nobody else");
	e.type = "leave";
	e.to = NULL;
	e.text = "timeout";
	e.text_len = 7;
	e.online = 3;
	ok(event_visible(&e, "any-room", 0), "a leave is seen everywhere");
	buf_reset(&b);
	event_json(&b, &e);
	ok_bytes(b.data, b.len,
	    "{\"id\":42,\"ts\":1764068400123,"
	    "\"type\":\"leave\",\"from\":\"alice\",\"text\":\"timeout\","
	    "\"online\":3}",
	    "a leave as JSON, with the online count");
	buf_free(&b);
}

static void
test_sha256(void)
{
	uint8_t		  d[SHA256_LEN];
	char		  hex[65];
	int		  i;
	static const char abc[] =
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
	static const char two_blocks[] =
	    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";

	sha256("abc", 3, d);
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
	ok(strcmp(hex, abc) == 0, "SHA-256 of abc (FIPS 180-4)");
	sha256(
	    "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, d);
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
	ok(strcmp(hex, two_blocks) == 0, "SHA-256 across two blocks");
}

static void
test_conf(void)
{
	struct conf	 c;
	enum conf_result rc;
	char *ok_argv[] = { "chatd", "-c", "/dev/null", "--rate-limit", "3/60",
		"--poll-max", "30", "--sync", "normal", "-w", "3",
		"--allow-root", NULL };
	char *bad_argv[] = { "chatd", "-c", "/dev/null", "--rate-limit", "3",
		NULL };
	char *idle_argv[] = { "chatd", "-c", "/dev/null", "--idle-timeout",
		"10", NULL };
	char *polls_argv[] = { "chatd", "-c", "/dev/null", "--session-polls",
		"64", NULL };
	char *polls_bad_argv[] = { "chatd", "-c", "/dev/null",
		"--session-polls", "65", NULL };

	rc = conf_load(&c, 12, ok_argv);
	ok(rc == CONF_OK && c.rate_count == 3 && c.rate_window == 60 &&
		c.poll_max == 30 && c.poll_timeout == 25 && !c.sync_full &&
		c.workers == 3 && c.allow_root && c.socket_mode == 0660 &&
		c.user == NULL,
	    "options parse");
	conf_free(&c);
	rc = conf_load(&c, 5, bad_argv);
	ok(rc == CONF_EXIT_USAGE, "a rate limit needs N/S");
	conf_free(&c);
	rc = conf_load(&c, 5, idle_argv);
	ok(rc == CONF_EXIT_USAGE,
	    "an idle timeout shorter than a poll is refused");
	conf_free(&c);
	rc = conf_load(&c, 1, ok_argv);
	ok(rc == CONF_OK && c.session_polls == 4,
	    "--session-polls: 4 by default");
	conf_free(&c);
	rc = conf_load(&c, 5, polls_argv);
	ok(rc == CONF_OK && c.session_polls == 64,
	    "--session-polls: 64 at most");
	conf_free(&c);
	rc = conf_load(&c, 5, polls_bad_argv);
	ok(rc == CONF_EXIT_USAGE, "--session-polls 65 is refused");
	conf_free(&c);
}

/* ok() evaluates its condition once: a side effect happens once. */
static void
test_tap(void)
{
	int calls = 0;

	ok(calls++ == 0, "a condition with a side effect passes");
	ok(calls == 1, "ok() evaluated it once (%d times)", calls);
}

int
main(void)
{
	test_tap();
	test_records();
	test_reply();
	test_events();
	test_sha256();
	test_conf();
	return tap_done();
}
