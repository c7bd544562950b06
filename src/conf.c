/*
 * conf: command-line options (see conf.h). `chatd --help` lists them.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif
/* Under configure's --runstatedir and --localstatedir (Makefile.am). */
#ifndef CHATD_SOCKET_PATH
#define CHATD_SOCKET_PATH "/run/chatd/chatd.sock"
#endif
#ifndef CHATD_DB_PATH
#define CHATD_DB_PATH "/var/lib/chatd/chat.db"
#endif

static const char usage_text[] =
    "Usage: chatd [OPTION]...\n"
    "A long-polling chat server: a FastCGI daemon behind nginx, with its\n"
    "event log in SQLite. It runs in the foreground; stop it with SIGTERM.\n"
    "\n"
    "  -s, --socket PATH        unix socket to listen on\n"
    "                           (default " CHATD_SOCKET_PATH ")\n"
    "  -m, --socket-mode MODE   permissions of the socket, octal (default 0660)\n"
    "  -g, --socket-group NAME  group of the socket: nginx's (e.g. www-data)\n"
    "  -d, --db PATH            SQLite database\n"
    "                           (default " CHATD_DB_PATH ")\n"
    "  -w, --workers N          processes sharing the socket (default 1)\n"
    "      --poll-timeout S     wait of a poll that names none (default 25)\n"
    "      --poll-max S         longest wait a poll may ask, 0-60 (default 60)\n"
    "      --session-polls N    waiting polls one session may hold, 1-64\n"
    "                           (default 4); one more answers its oldest at\n"
    "                           once with no events; per worker process\n"
    "      --idle-timeout S     end sessions idle this long (default 300)\n"
    "      --rate-limit N/S     sends per session per S seconds (default 20/10)\n"
    "      --sync full|normal   SQLite synchronous mode (default full: a send\n"
    "                           survives a power cut; normal: a crash only)\n"
    "      --busy-timeout MS    wait for the database lock (default 5000)\n"
    "      --watch-interval MS  check for rows written by others (default 100)\n"
    "      --max-body BYTES     largest form body, at most 16 MiB (default\n"
    "                           65536)\n"
    "      --max-image BYTES    largest image upload, at most 8 MiB (default\n"
    "                           1048576); nginx's\n"
    "                           client_max_body_size for /api/image must allow\n"
    "                           it and some 16 KB of form around it\n"
    "      --image-quota N/S    image bytes a session may store per S\n"
    "                           seconds (S up to 86400), N at least\n"
    "                           --max-image (default 16777216/600)\n"
    "      --image-store BYTES  image bytes the database may hold, 0 for no\n"
    "                           limit (default 1073741824); past it, uploads\n"
    "                           get 503 until images are deleted (sql/)\n"
    "      --retain DAYS        delete events (and their images) older than\n"
    "                           DAYS days, and sessions ended before then;\n"
    "                           0 keeps them for ever (default 0)\n"
    "      --index-delay MS     index new events for search this long after\n"
    "                           they come, 0 to 3600000 (default 250); a\n"
    "                           search indexes them first whatever this is\n"
    "  -l, --log-level LEVEL    error, warn, info or debug (default info)\n"
    "  -h, --help               show this help and exit\n"
    "  -V, --version            show the version and exit\n";

enum {
	OPT_POLL_TIMEOUT = 256,
	OPT_POLL_MAX,
	OPT_IDLE_TIMEOUT,
	OPT_RATE_LIMIT,
	OPT_SYNC,
	OPT_BUSY_TIMEOUT,
	OPT_WATCH_INTERVAL,
	OPT_IMAGE_QUOTA,
	OPT_IMAGE_STORE,
	OPT_MAX_BODY,
	OPT_MAX_IMAGE,
	OPT_SESSION_POLLS,
	OPT_RETAIN,
	OPT_INDEX_DELAY
};

static const struct option long_options[] = { { "socket", required_argument,
						  NULL, 's' },
	{ "socket-mode", required_argument, NULL, 'm' },
	{ "socket-group", required_argument, NULL, 'g' },
	{ "db", required_argument, NULL, 'd' },
	{ "workers", required_argument, NULL, 'w' },
	{ "poll-timeout", required_argument, NULL, OPT_POLL_TIMEOUT },
	{ "poll-max", required_argument, NULL, OPT_POLL_MAX },
	{ "session-polls", required_argument, NULL, OPT_SESSION_POLLS },
	{ "idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT },
	{ "rate-limit", required_argument, NULL, OPT_RATE_LIMIT },
	{ "sync", required_argument, NULL, OPT_SYNC },
	{ "busy-timeout", required_argument, NULL, OPT_BUSY_TIMEOUT },
	{ "watch-interval", required_argument, NULL, OPT_WATCH_INTERVAL },
	{ "max-body", required_argument, NULL, OPT_MAX_BODY },
	{ "max-image", required_argument, NULL, OPT_MAX_IMAGE },
	{ "image-quota", required_argument, NULL, OPT_IMAGE_QUOTA },
	{ "image-store", required_argument, NULL, OPT_IMAGE_STORE },
	{ "retain", required_argument, NULL, OPT_RETAIN },
	{ "index-delay", required_argument, NULL, OPT_INDEX_DELAY },
	{ "log-level", required_argument, NULL, 'l' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' }, { NULL, 0, NULL, 0 } };

void
conf_defaults(struct conf *c)
{
	memset(c, 0, sizeof *c);
	c->socket_path = CHATD_SOCKET_PATH;
	c->socket_mode = 0660;
	c->db_path = CHATD_DB_PATH;
	c->workers = 1;
	c->poll_timeout = 25;
	c->poll_max = 60;
	c->session_polls = 4;
	c->idle_timeout = 300;
	c->rate_count = 20;
	c->rate_window = 10;
	c->sync_full = 1;
	c->busy_timeout_ms = 5000;
	c->index_delay_ms = 250;
	c->watch_interval_ms = 100;
	c->max_body = 65536;
	c->max_image = 1 << 20;
	c->image_quota = 16 << 20;
	c->image_quota_window = 600;
	c->image_store = 1L << 30;
	c->log_level = LOG_INFO;
}

/* Parse a whole number in [min, max]; -1 if it is not one. */
static int
parse_number(const char *s, long min, long max, long *out)
{
	char *end;
	long  v;

	if (*s == '\0')
		return -1;
	v = strtol(s, &end, 10);
	if (*end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int
bad_value(const char *option, const char *value)
{
	fprintf(stderr, "chatd: bad value for --%s: '%s' (see --help)\n",
	    option, value);
	return -1;
}

/*
 * Parse "N/S": N in [min, max] per S seconds (1 to a day) into *n and
 * *secs; -1 if it is not that.
 */
static int
parse_per(const char *s, long min, long max, long *n, long *secs)
{
	char *end;

	*n = strtol(s, &end, 10);
	if (end == s || *end != '/' || *n < min || *n > max)
		return -1;
	return parse_number(end + 1, 1, 86400, secs);
}

/* Apply one option; -1 after saying what is wrong. */
static int
conf_apply(struct conf *c, int opt, const char *arg)
{
	long  v, w;
	char *end;

	switch (opt) {
	case 's': c->socket_path = arg; return 0;
	case 'g': c->socket_group = arg; return 0;
	case 'd': c->db_path = arg; return 0;
	case 'm':
		v = strtol(arg, &end, 8);
		if (*arg == '\0' || *end != '\0' || v < 0 || v > 0777)
			return bad_value("socket-mode", arg);
		c->socket_mode = (mode_t)v;
		return 0;
	case 'w':
		if (parse_number(arg, 1, 64, &v) == -1)
			return bad_value("workers", arg);
		c->workers = (int)v;
		return 0;
	case OPT_POLL_TIMEOUT:
		if (parse_number(arg, 0, 60, &v) == -1)
			return bad_value("poll-timeout", arg);
		c->poll_timeout = (int)v;
		return 0;
	case OPT_POLL_MAX:
		if (parse_number(arg, 0, 60, &v) == -1)
			return bad_value("poll-max", arg);
		c->poll_max = (int)v;
		return 0;
	case OPT_SESSION_POLLS:
		if (parse_number(arg, 1, 64, &v) == -1)
			return bad_value("session-polls", arg);
		c->session_polls = (int)v;
		return 0;
	case OPT_IDLE_TIMEOUT:
		if (parse_number(arg, 1, 86400 * 30, &v) == -1)
			return bad_value("idle-timeout", arg);
		c->idle_timeout = (int)v;
		return 0;
	case OPT_RATE_LIMIT:
		if (parse_per(arg, 1, 1000000, &v, &w) == -1)
			return bad_value("rate-limit", arg);
		c->rate_count = (int)v;
		c->rate_window = (int)w;
		return 0;
	case OPT_SYNC:
		if (strcmp(arg, "full") != 0 && strcmp(arg, "normal") != 0)
			return bad_value("sync", arg);
		c->sync_full = strcmp(arg, "full") == 0;
		return 0;
	case OPT_BUSY_TIMEOUT:
		if (parse_number(arg, 0, 600000, &v) == -1)
			return bad_value("busy-timeout", arg);
		c->busy_timeout_ms = (int)v;
		return 0;
	case OPT_WATCH_INTERVAL:
		if (parse_number(arg, 1, 10000, &v) == -1)
			return bad_value("watch-interval", arg);
		c->watch_interval_ms = (int)v;
		return 0;
	case OPT_MAX_BODY:
		/* At most fcgi.c's DRAIN_LIMIT: a longer body is never read. */
		if (parse_number(arg, 1024, 16L << 20, &v) == -1)
			return bad_value("max-body", arg);
		c->max_body = (size_t)v;
		return 0;
	case OPT_MAX_IMAGE:
		/* Below fcgi.c's DRAIN_LIMIT (16 MiB), form and all. */
		if (parse_number(arg, 1024, 8L << 20, &v) == -1)
			return bad_value("max-image", arg);
		c->max_image = (size_t)v;
		return 0;
	case OPT_IMAGE_QUOTA:
		if (parse_per(arg, 1024, 1L << 40, &v, &w) == -1)
			return bad_value("image-quota", arg);
		c->image_quota = v;
		c->image_quota_window = (int)w;
		return 0;
	case OPT_IMAGE_STORE:
		if (parse_number(arg, 0, 1L << 50, &v) == -1)
			return bad_value("image-store", arg);
		c->image_store = v;
		return 0;
	case OPT_RETAIN:
		if (parse_number(arg, 0, 36500, &v) == -1)
			return bad_value("retain", arg);
		c->retain_days = (int)v;
		return 0;
	case OPT_INDEX_DELAY:
		if (parse_number(arg, 0, 3600000, &v) == -1)
			return bad_value("index-delay", arg);
		c->index_delay_ms = (int)v;
		return 0;
	case 'l':
		if (log_parse_level(arg, &c->log_level) == -1)
			return bad_value("log-level", arg);
		return 0;
	}
	return -1;
}

/* Fill c from argv. */
enum conf_result
conf_parse(struct conf *c, int argc, char **argv)
{
	int opt;

	optind = 1;
	while ((opt = getopt_long(
		    argc, argv, "s:m:g:d:w:l:hV", long_options, NULL)) != -1) {
		if (opt == 'h') {
			fputs(usage_text, stdout);
			return CONF_EXIT_OK;
		}
		if (opt == 'V') {
			printf("chatd %s\n", PACKAGE_VERSION);
			return CONF_EXIT_OK;
		}
		if (opt == '?' || conf_apply(c, opt, optarg) == -1)
			return CONF_EXIT_ERROR;
	}
	if (optind < argc) {
		fprintf(
		    stderr, "chatd: unexpected argument '%s'\n", argv[optind]);
		return CONF_EXIT_ERROR;
	}
	if (c->poll_timeout > c->poll_max)
		c->poll_timeout = c->poll_max;
	if (c->image_quota < (long)c->max_image) {
		fprintf(stderr,
		    "chatd: --image-quota (%ld bytes) must allow one image of "
		    "--max-image (%zu bytes)\n",
		    c->image_quota, c->max_image);
		return CONF_EXIT_ERROR;
	}
	if (c->idle_timeout <= c->poll_max) {
		fprintf(stderr,
		    "chatd: --idle-timeout (%d) must be longer "
		    "than --poll-max (%d), or waiting clients time out\n",
		    c->idle_timeout, c->poll_max);
		return CONF_EXIT_ERROR;
	}
	return CONF_OK;
}
