/*
 * Unit tests of bench/loadgen.c's parsers: the benchmark's figures are only
 * as good as its reading of the servers' answers. (An early version read
 * a timestamp past the end of nchan's body into the next bytes, and
 * reported nchan's latencies as zero.) The load generator is one file
 * with its own main, so it is included here with main renamed.
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
int loadgen_main(int, char **);

#define main loadgen_main
#include "../../bench/loadgen.c"
#undef main

#include "tap.h"

/* A poller with room for n sequence numbers, and the counters it feeds. */
static struct client *
poller(uint32_t n)
{
	static struct client cl;

	O.maxseq = n;
	free(cl.seen);
	free(W.counts);
	memset(&cl, 0, sizeof cl);
	memset(&W.st, 0, sizeof W.st);
	cl.seen = xcalloc((n + 7) / 8, 1);
	W.counts = xcalloc(n, sizeof *W.counts);
	return &cl;
}

static void
test_scan(void)
{
	struct client *cl;
	char	       buf[64];
	int64_t	       now = 5000000;

	/* The body ends at the last digit; the bytes after it are digits. */
	cl = poller(10);
	strcpy(buf,
	    "b:3:4000000"
	    "999");
	scan_seqs(cl, buf, 11, now);
	ok(W.st.deliveries == 1 && W.counts[3] == 1,
	    "a message at the very end of a body is found");
	ok(W.st.lat.max_us == 1000,
	    "its timestamp stops at the body's end (latency %llu us)",
	    (unsigned long long)W.st.lat.max_us);

	cl = poller(10);
	strcpy(buf, "{\"text\":\"b:1:4000000\"},{\"text\":\"b:1:4000000\"}");
	scan_seqs(cl, buf, strlen(buf), now);
	ok(W.st.deliveries == 1 && W.st.dup == 1,
	    "the same message twice counts once, and as a duplicate");

	cl = poller(10);
	strcpy(buf, "ab:2:1 b:x:1 b:2: b:12:1 b:4:1");
	scan_seqs(cl, buf, strlen(buf), now);
	ok(W.st.deliveries == 1 && W.counts[4] == 1 && W.st.stray == 1,
	    "malformed and out-of-range markers are not deliveries");
}

static void
test_http(void)
{
	struct resp r;
	char	    buf[512];
	ssize_t	    n;

	strcpy(buf,
	    "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
	    "Etag: 7\r\n\r\nhelloHTTP/1.1");
	n = resp_parse(buf, strlen(buf), 0, &r);
	ok(n == (ssize_t)strlen(buf) - 8 && r.status == 200 && r.blen == 5 &&
		memcmp(r.body, "hello", 5) == 0 && strcmp(r.etag, "7") == 0,
	    "Content-Length: the body, and where the next answer begins");

	strcpy(buf, "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nhello");
	ok(resp_parse(buf, strlen(buf), 0, &r) == 0,
	    "a body not all here yet: wait for more");

	strcpy(buf,
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n");
	n = resp_parse(buf, strlen(buf), 0, &r);
	ok(n == (ssize_t)strlen(buf) && r.blen == 7 &&
		memcmp(r.body, "abcdefg", 7) == 0,
	    "chunked: the chunks joined");

	strcpy(buf,
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "3\r\nabc\r\n4\r\nde");
	ok(resp_parse(buf, strlen(buf), 0, &r) == 0,
	    "chunked, cut in a chunk: wait for more");

	strcpy(buf, "SSH-2.0\r\n\r\n");
	ok(resp_parse(buf, strlen(buf), 0, &r) == -1, "not HTTP: an error");
}

static void
test_json(void)
{
	char buf[128], s[16];

	strcpy(buf,
	    "{\"cursor\":4217,\"events\":[]}"
	    "99");
	ok(json_int(buf, strlen(buf) - 2, "cursor") == 4217,
	    "json_int reads the cursor");
	strcpy(buf, "{\"cursor\":42");
	ok(json_int(buf, 11, "cursor") == 4,
	    "json_int stops at the end of the body");
	ok(json_int(buf, 11, "nope") == -1, "json_int: an absent key is -1");
	strcpy(buf, "[{\"id\":5},{\"id\":12},{\"id\":7}]");
	ok(json_max_id(buf, strlen(buf)) == 12, "json_max_id: the largest");
	strcpy(buf, "{\"session\":\"abc\",\"csrf\":\"0123456789abcdefXYZ\"}");
	ok(json_str(buf, strlen(buf), "session", s, sizeof s) == 0 &&
		strcmp(s, "abc") == 0,
	    "json_str copies a string");
	ok(json_str(buf, strlen(buf), "csrf", s, sizeof s) == -1,
	    "json_str refuses one too long for its buffer");
}

static void
test_hist(void)
{
	static struct hist h;
	int		   i;

	for (i = 1; i <= 100; i++)
		hist_add(&h, (int64_t)i * MS); /* 1 to 100 ms */
	ok(hist_ms(&h, 0.5) >= 50 && hist_ms(&h, 0.5) <= 50.01,
	    "p50 of 1..100 ms is 50 ms (%.2f)", hist_ms(&h, 0.5));
	ok(hist_ms(&h, 0.99) >= 99 && hist_ms(&h, 0.99) <= 99.01,
	    "p99 is 99 ms (%.2f)", hist_ms(&h, 0.99));
	hist_add(&h, -5);
	ok(h.b[0] == 1, "a negative latency is counted as zero, not lost");
}

static void
test_sources(void)
{
	uint32_t first = 0;
	int	 n = 0;

	ok(parse_sources("127.0.0.2-127.0.0.9", &first, &n) == 0 &&
		first == 0x7f000002 && n == 8,
	    "a range: its first address and count (%08x, %d)", first, n);
	ok(parse_sources("127.0.0.5", &first, &n) == 0 && first == 0x7f000005 &&
		n == 1,
	    "one address is a range of one");
	ok(parse_sources("127.0.0.255-127.0.1.1", &first, &n) == 0 && n == 3,
	    "a range may cross a byte (%d)", n);
	ok(parse_sources("127.0.0.9-127.0.0.2", &first, &n) == -1,
	    "a range that ends before it starts is refused");
	ok(parse_sources("127.0.0.0-127.1.0.0", &first, &n) == -1,
	    "more than 65,536 addresses are refused");
	ok(parse_sources("127.0.0.2-", &first, &n) == -1 &&
		parse_sources("-127.0.0.2", &first, &n) == -1 &&
		parse_sources("127.0.0.2-x", &first, &n) == -1 &&
		parse_sources("localhost", &first, &n) == -1,
	    "a range with a missing or bad end is refused");
	O.src_first = 0x7f000002;
	O.src_n = 8;
	ok(source_of(0) == 0x7f000002 && source_of(7) == 0x7f000009 &&
		source_of(8) == 0x7f000002 && source_of(100001) == 0x7f000003,
	    "clients take the addresses in turn");
	O.src_n = 0;
}

static void
test_share(void)
{
	static struct client cl[6];
	int		     i;

	memset(&W.st, 0, sizeof W.st);
	W.cl = cl;
	W.ncl = 6;
	W.setup_done = 0;
	for (i = 0; i < 6; i++)
		cl[i].role = i < 5 ? R_POLLER : R_SENDER;
	O.target = T_CHATD;
	O.share = 3;
	ok(leader_of(&cl[0]) == NULL && leader_of(&cl[3]) == NULL,
	    "every third poller logs in itself");
	ok(leader_of(&cl[1]) == &cl[0] && leader_of(&cl[2]) == &cl[0] &&
		leader_of(&cl[4]) == &cl[3],
	    "the others share the session of the one before them");
	ok(leader_of(&cl[5]) == NULL, "a sender logs in itself");
	cl[0].stage = G_SETUP;
	ok(follow(&cl[1], &cl[0]) == 0 && W.setup_done == 0,
	    "a follower waits while its leader logs in");
	strcpy(cl[0].session, "s0");
	strcpy(cl[0].csrf, "c0");
	cl[0].cursor = 7;
	cl[0].stage = G_READY;
	ok(follow(&cl[1], &cl[0]) == 1 && strcmp(cl[1].session, "s0") == 0 &&
		strcmp(cl[1].csrf, "c0") == 0 && cl[1].cursor == 7 &&
		cl[1].stage == G_READY && W.setup_done == 1,
	    "then takes its session, CSRF token and cursor");
	cl[3].stage = G_DEAD;
	ok(follow(&cl[4], &cl[3]) == 1 && cl[4].stage == G_DEAD &&
		W.st.err_setup == 1,
	    "a leader that failed takes its followers with it, counted");
	O.target = T_NCHAN;
	ok(leader_of(&cl[1]) == NULL, "only chatd has sessions to share");
	O.target = T_CHATD;
	O.share = 1;
	ok(leader_of(&cl[1]) == NULL, "--share 1: every poller logs in");
	W.cl = NULL;
	W.ncl = 0;
}

int
main(void)
{
	test_scan();
	test_http();
	test_json();
	test_hist();
	test_sources();
	test_share();
	return tap_done();
}
