/*
 * conf: the table of settings, and the command line, the file and --help
 * made from it (see conf.h). tmux's options-table.c is the model: a row
 * per setting, and code that knows only the types.
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "log.h"
#include "log_syslog.h"
#include "xmalloc.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif
/* Under configure's directories (Makefile.am passes them, expanded). */
#ifndef CHATD_CONFIG_PATH
#define CHATD_CONFIG_PATH "/etc/chatd/chatd.conf"
#endif
#ifndef CHATD_SOCKET_PATH
#define CHATD_SOCKET_PATH "/run/chatd/chatd.sock"
#endif
#ifndef CHATD_DB_PATH
#define CHATD_DB_PATH "/var/lib/chatd/chat.db"
#endif

enum conf_type {
	T_PATH,	  /* a file name */
	T_NAME,	  /* a user or group name */
	T_INT,	  /* a whole number in [min, max] */
	T_MODE,	  /* an octal mode in [min, max] */
	T_PER,	  /* N/S: N in [min, max] per S seconds, 1 to a day */
	T_ENUM,	  /* one of choices, kept as its index */
	T_BOOL,	  /* a flag; yes or no in the file */
	T_ACTION, /* --help, --version: answered at once */
};

#define CF_LIVE 1 /* SIGHUP applies a new value */
#define CF_ARGV 2 /* the command line only, never the file */

struct conf_string {
	struct conf_string *next;
	char		    s[];
};

struct conf_entry {
	const char	  *name; /* long option and key in the file */
	int		   short_name;
	enum conf_type	   type;
	long		   min, max;
	const char *const *choices;   /* T_ENUM, NULL-terminated */
	const char	  *def;	      /* as it would be written; NULL: none */
	size_t		   off, size; /* the field in struct conf */
	size_t		   off2;      /* T_PER: the seconds, an int */
	int		   flags;
	const char	  *arg; /* the value's name in --help */
	const char	  *help;
};

#define FIELD(f) offsetof(struct conf, f), sizeof(((struct conf *)0)->f)
#define NO_FIELD 0, 0

static const char *const level_names[] = { "error", "warn", "info", "debug",
	NULL };
static const char *const sync_names[] = { "normal", "full", NULL };

static const struct conf_entry table[] = {
	{ "config", 'c', T_PATH, 0, 0, NULL, CHATD_CONFIG_PATH,
	    FIELD(config_path), 0, CF_ARGV, "FILE",
	    "read the settings from FILE; a missing default\n"
	    "file is no error" },
	{ "check-config", 't', T_BOOL, 0, 0, NULL, NULL, FIELD(check_config), 0,
	    CF_ARGV, NULL, "check the file and the options, then exit" },
	{ "socket", 's', T_PATH, 0, 0, NULL, CHATD_SOCKET_PATH,
	    FIELD(socket_path), 0, 0, "PATH",
	    "unix socket to listen on; only a stale socket\n"
	    "there is replaced" },
	{ "socket-mode", 'm', T_MODE, 0, 0777, NULL, "0660", FIELD(socket_mode),
	    0, 0, "MODE",
	    "permissions of the socket, octal; none for\n"
	    "others" },
	{ "socket-group", 'g', T_NAME, 0, 0, NULL, NULL, FIELD(socket_group), 0,
	    0, "NAME", "group of the socket: nginx's (e.g. www-data)" },
	{ "db", 'd', T_PATH, 0, 0, NULL, CHATD_DB_PATH, FIELD(db_path), 0, 0,
	    "PATH",
	    "SQLite database; its directory is made 0700 if\n"
	    "missing, the files 0600" },
	{ "db-group", 0, T_NAME, 0, 0, NULL, NULL, FIELD(db_group), 0, 0,
	    "NAME",
	    "group that may read the database (files 0640,\n"
	    "a new directory 2750)" },
	{ "user", 'u', T_NAME, 0, 0, NULL, NULL, FIELD(user), 0, 0, "NAME",
	    "once the socket and the database are open, run\n"
	    "as this user and its groups (start as root)" },
	{ "allow-root", 0, T_BOOL, 0, 0, NULL, NULL, FIELD(allow_root), 0, 0,
	    NULL, "run as root without --user (refused otherwise)" },
	{ "workers", 'w', T_INT, 1, 64, NULL, "1", FIELD(workers), 0, 0, "N",
	    "processes sharing the socket" },
	{ "poll-timeout", 0, T_INT, 0, 60, NULL, "25", FIELD(poll_timeout), 0,
	    CF_LIVE, "S", "wait of a poll that names none" },
	{ "poll-max", 0, T_INT, 0, 60, NULL, "60", FIELD(poll_max), 0, CF_LIVE,
	    "S", "longest wait a poll may ask, 0-60" },
	{ "session-polls", 0, T_INT, 1, 64, NULL, "4", FIELD(session_polls), 0,
	    0, "N",
	    "waiting polls one session may hold, 1-64; one\n"
	    "more answers its oldest at once with no events;\n"
	    "per worker process" },
	{ "idle-timeout", 0, T_INT, 1, 86400 * 30, NULL, "300",
	    FIELD(idle_timeout), 0, CF_LIVE, "S",
	    "end sessions idle this long" },
	{ "rate-limit", 0, T_PER, 1, 1000000, NULL, "20/10", FIELD(rate_count),
	    offsetof(struct conf, rate_window), CF_LIVE, "N/S",
	    "sends per session per S seconds" },
	{ "sync", 0, T_ENUM, 0, 0, sync_names, "full", FIELD(sync_full), 0, 0,
	    "full|normal",
	    "SQLite synchronous mode (full: a send\n"
	    "survives a power cut; normal: a crash only)" },
	{ "busy-timeout", 0, T_INT, 0, 600000, NULL, "5000",
	    FIELD(busy_timeout_ms), 0, 0, "MS", "wait for the database lock" },
	{ "watch-interval", 0, T_INT, 1, 10000, NULL, "100",
	    FIELD(watch_interval_ms), 0, CF_LIVE, "MS",
	    "check for rows written by others" },
	{ "coalesce-delay", 0, T_INT, 0, 1000, NULL, "10",
	    FIELD(coalesce_delay_ms), 0, CF_LIVE, "MS",
	    "answer parked polls at most once per MS ms\n"
	    "while events keep coming; the first after a\n"
	    "quiet spell goes at once; 0 turns it off" },
	/* At most fcgi.c's DRAIN_LIMIT: a longer body is never read. */
	{ "max-body", 0, T_INT, 1024, 16L << 20, NULL, "65536", FIELD(max_body),
	    0, CF_LIVE, "BYTES", "largest form body, at most 16 MiB" },
	/* Below fcgi.c's DRAIN_LIMIT (16 MiB), form and all. */
	{ "max-image", 0, T_INT, 1024, 8L << 20, NULL, "1048576",
	    FIELD(max_image), 0, CF_LIVE, "BYTES",
	    "largest image upload, at most 8 MiB; nginx's\n"
	    "client_max_body_size for /api/image must allow\n"
	    "it and some 16 KB of form around it" },
	{ "image-quota", 0, T_PER, 1024, 1L << 40, NULL, "16777216/600",
	    FIELD(image_quota), offsetof(struct conf, image_quota_window),
	    CF_LIVE, "N/S",
	    "image bytes a session may store per S seconds\n"
	    "(S up to 86400), N at least --max-image" },
	{ "image-store", 0, T_INT, 0, 1L << 50, NULL, "1073741824",
	    FIELD(image_store), 0, CF_LIVE, "BYTES",
	    "image bytes the database may hold, 0 for no\n"
	    "limit; past it, uploads get 503 until images\n"
	    "are deleted (sql/)" },
	{ "retain", 0, T_INT, 0, 36500, NULL, "0", FIELD(retain_days), 0, 0,
	    "DAYS",
	    "delete events (and their images) older than\n"
	    "DAYS days, and sessions ended before then;\n"
	    "0 keeps them for ever" },
	{ "index-delay", 0, T_INT, 0, 3600000, NULL, "250",
	    FIELD(index_delay_ms), 0, 0, "MS",
	    "index new events for search this long after\n"
	    "they come; a search indexes them first\n"
	    "whatever this is" },
	{ "log-level", 'l', T_ENUM, 0, 0, level_names, "info", FIELD(log_level),
	    0, CF_LIVE, "LEVEL",
	    "error, warn, info (a line per failed request\n"
	    "and a summary a minute) or debug (every request)" },
	{ "log-file", 0, T_PATH, 0, 0, NULL, NULL, FIELD(log_file), 0, 0,
	    "PATH",
	    "log to PATH instead of standard error; SIGHUP\n"
	    "opens it again (after a rotation)" },
	{ "syslog", 0, T_BOOL, 0, 0, NULL, NULL, FIELD(syslog), 0, 0, NULL,
	    "log to syslog too, besides standard error" },
	{ "syslog-facility", 0, T_ENUM, 0, 0, log_syslog_facilities, "daemon",
	    FIELD(syslog_facility), 0, 0, "NAME",
	    "syslog facility: daemon, user, local0-local7" },
	{ "help", 'h', T_ACTION, 0, 0, NULL, NULL, NO_FIELD, 0, CF_ARGV, NULL,
	    "show this help and exit" },
	{ "version", 'V', T_ACTION, 0, 0, NULL, NULL, NO_FIELD, 0, CF_ARGV,
	    NULL, "show the version and exit" },
};

#define N_ENTRIES (sizeof table / sizeof table[0])
#define LONG_BASE 256 /* getopt value of entry i without a short name */

static int conf_via_log; /* errors go to the log (SIGHUP), not stderr */

/* Say what is wrong: on stderr at start, in the log on SIGHUP. */
static void __attribute__((format(printf, 1, 2)))
conf_error(const char *fmt, ...)
{
	char	line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (conf_via_log)
		log_error("%s", line);
	else
		fprintf(stderr, "chatd: %s\n", line);
}

/* A copy of s that lives as long as c (conf_free). */
static const char *
conf_strdup(struct conf *c, const char *s)
{
	size_t		    len = strlen(s);
	struct conf_string *cs;

	cs = xmalloc(sizeof *cs + len + 1);
	memcpy(cs->s, s, len + 1);
	cs->next = c->owned;
	c->owned = cs;
	return cs->s;
}

/* Free what c owns. */
void
conf_free(struct conf *c)
{
	struct conf_string *cs;

	while ((cs = c->owned) != NULL) {
		c->owned = cs->next;
		free(cs);
	}
}

/* Store v in the number field at off, of size bytes (int or 64 bits). */
static void
put_number(struct conf *c, size_t off, size_t size, long v)
{
	int	i = (int)v;
	int64_t l = v;

	if (size == sizeof i)
		memcpy((char *)c + off, &i, sizeof i);
	else
		memcpy((char *)c + off, &l, sizeof l);
}

/* The number field at off, of size bytes. */
static long
get_number(const struct conf *c, size_t off, size_t size)
{
	int	i;
	int64_t l;

	if (size == sizeof i) {
		memcpy(&i, (const char *)c + off, sizeof i);
		return i;
	}
	memcpy(&l, (const char *)c + off, sizeof l);
	return (long)l;
}

/* Parse a whole number in [min, max] in base; -1 if it is not one. */
static int
parse_number(const char *s, int base, long min, long max, long *out)
{
	char *end;
	long  v;

	if (*s == '\0' || *s == ' ' || *s == '+' || *s == '-')
		return -1;
	errno = 0;
	v = strtol(s, &end, base);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* Parse "N/S", N in [min, max] per S seconds (1 to a day); -1 if not. */
static int
parse_per(const char *s, long min, long max, long *n, long *secs)
{
	const char *slash = strchr(s, '/');
	char	    head[32];

	if (slash == NULL || (size_t)(slash - s) >= sizeof head)
		return -1;
	memcpy(head, s, (size_t)(slash - s));
	head[slash - s] = '\0';
	if (parse_number(head, 10, min, max, n) == -1)
		return -1;
	return parse_number(slash + 1, 10, 1, 86400, secs);
}

/* Parse a flag's value in the file; -1 if it is none. */
static int
parse_bool(const char *s, long *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	size_t			 i;

	for (i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		if (strcmp(s, yes[i]) == 0 || strcmp(s, no[i]) == 0) {
			*out = strcmp(s, yes[i]) == 0;
			return 0;
		}
	}
	return -1;
}

/* What a value of e's type must look like, for an error message. */
static void
expected(const struct conf_entry *e, char *out, size_t size)
{
	size_t i, len;

	switch (e->type) {
	case T_PATH: snprintf(out, size, "a file name"); break;
	case T_NAME: snprintf(out, size, "a name, without spaces"); break;
	case T_INT:
		snprintf(out, size, "a whole number from %ld to %ld", e->min,
		    e->max);
		break;
	case T_MODE:
		snprintf(out, size, "an octal mode from %04lo to %04lo", e->min,
		    e->max);
		break;
	case T_PER:
		snprintf(out, size,
		    "N/S, N from %ld to %ld, S seconds from 1 to 86400", e->min,
		    e->max);
		break;
	case T_ENUM:
		len = (size_t)snprintf(out, size, "one of");
		for (i = 0; e->choices[i] != NULL && len < size; i++)
			len += (size_t)snprintf(
			    out + len, size - len, " %s", e->choices[i]);
		break;
	case T_BOOL: snprintf(out, size, "yes or no"); break;
	case T_ACTION: snprintf(out, size, "nothing"); break;
	}
}

/*
 * Set e to value (a string that outlives c); where says where it came
 * from ("--workers", "FILE:LINE: workers"). -1 after saying what is wrong.
 */
static int
conf_set(struct conf *c, const struct conf_entry *e, const char *value,
    const char *where)
{
	char   want[128];
	long   v = 0, secs = 0;
	size_t i;

	switch (e->type) {
	case T_PATH:
		if (*value == '\0')
			goto bad;
		memcpy((char *)c + e->off, &value, sizeof value);
		return 0;
	case T_NAME:
		if (*value == '\0' || strpbrk(value, " \t:/") != NULL)
			goto bad;
		memcpy((char *)c + e->off, &value, sizeof value);
		return 0;
	case T_INT:
		if (parse_number(value, 10, e->min, e->max, &v) == -1)
			goto bad;
		break;
	case T_MODE:
		if (parse_number(value, 8, e->min, e->max, &v) == -1)
			goto bad;
		break;
	case T_PER:
		if (parse_per(value, e->min, e->max, &v, &secs) == -1)
			goto bad;
		put_number(c, e->off2, sizeof(int), secs);
		break;
	case T_ENUM:
		for (i = 0; e->choices[i] != NULL; i++)
			if (strcmp(value, e->choices[i]) == 0)
				break;
		if (e->choices[i] == NULL)
			goto bad;
		v = (long)i;
		break;
	case T_BOOL:
		if (parse_bool(value, &v) == -1)
			goto bad;
		break;
	case T_ACTION: return 0;
	}
	put_number(c, e->off, e->size, v);
	return 0;
bad:
	expected(e, want, sizeof want);
	conf_error("%s: bad value '%s': %s", where, value, want);
	return -1;
}

/* The text of e's value in c, as it would be written (into out). */
static const char *
conf_format(
    const struct conf *c, const struct conf_entry *e, char *out, size_t size)
{
	const char *s;
	long	    v = 0;

	if (e->type != T_PATH && e->type != T_NAME && e->type != T_ACTION)
		v = get_number(c, e->off, e->size);
	switch (e->type) {
	case T_PATH:
	case T_NAME:
		memcpy(&s, (const char *)c + e->off, sizeof s);
		snprintf(out, size, "%s", s ? s : "(none)");
		break;
	case T_INT: snprintf(out, size, "%ld", v); break;
	case T_MODE: snprintf(out, size, "%04lo", v); break;
	case T_PER:
		snprintf(out, size, "%ld/%ld", v,
		    get_number(c, e->off2, sizeof(int)));
		break;
	case T_ENUM: snprintf(out, size, "%s", e->choices[v]); break;
	case T_BOOL: snprintf(out, size, "%s", v ? "yes" : "no"); break;
	case T_ACTION: out[0] = '\0'; break;
	}
	return out;
}

/* The entry of a getopt value. */
static const struct conf_entry *
entry_of_opt(int opt)
{
	size_t i;

	if (opt >= LONG_BASE && (size_t)(opt - LONG_BASE) < N_ENTRIES)
		return &table[opt - LONG_BASE];
	for (i = 0; i < N_ENTRIES; i++)
		if (table[i].short_name != 0 && table[i].short_name == opt)
			return &table[i];
	return NULL;
}

/* The entry named name, or NULL. */
static const struct conf_entry *
entry_named(const char *name)
{
	size_t i;

	for (i = 0; i < N_ENTRIES; i++)
		if (strcmp(table[i].name, name) == 0)
			return &table[i];
	return NULL;
}

/* getopt_long's tables, made from the table once. */
static const struct option *
getopt_tables(const char **shorts)
{
	static struct option opts[N_ENTRIES + 1];
	static char	     s[3 * N_ENTRIES + 2];
	size_t		     i, n = 0;
	int		     takes;

	s[n++] = '+'; /* stop at the first argument that is no option */
	for (i = 0; i < N_ENTRIES; i++) {
		takes = table[i].type != T_BOOL && table[i].type != T_ACTION;
		opts[i].name = table[i].name;
		opts[i].has_arg = takes ? required_argument : no_argument;
		opts[i].flag = NULL;
		opts[i].val = table[i].short_name ? table[i].short_name :
						    LONG_BASE + (int)i;
		if (table[i].short_name) {
			s[n++] = (char)table[i].short_name;
			if (takes)
				s[n++] = ':';
		}
	}
	s[n] = '\0';
	*shorts = s;
	return opts;
}

/* Print one entry of --help: the option, its help, its default. */
static void
usage_entry(const struct conf_entry *e)
{
	char	    left[64], def[128];
	const char *h, *nl;
	int	    len, col;

	len = snprintf(left, sizeof left, "  %c%c%c --%s%s%s",
	    e->short_name ? '-' : ' ', e->short_name ? e->short_name : ' ',
	    e->short_name ? ',' : ' ', e->name, e->arg ? " " : "",
	    e->arg ? e->arg : "");
	fputs(left, stdout);
	col = len;
	if (len > 26) {
		fputs("\n", stdout);
		col = 0;
	}
	for (h = e->help;; h = nl + 1) {
		printf("%*s", 27 - col, "");
		nl = strchr(h, '\n');
		col = 27 + (int)(nl ? (size_t)(nl - h) : strlen(h));
		printf("%.*s", (int)(nl ? (size_t)(nl - h) : strlen(h)), h);
		if (nl == NULL)
			break;
		fputs("\n", stdout);
		col = 0;
	}
	if (e->def != NULL && e->type != T_BOOL) {
		snprintf(def, sizeof def, "(default %s)", e->def);
		if (col + 1 + (int)strlen(def) > 79)
			printf("\n%27s%s", "", def);
		else
			printf(" %s", def);
	}
	fputs("\n", stdout);
}

/* chatd --help, made from the table. */
static void
usage(void)
{
	size_t i;

	printf("Usage: chatd [OPTION]...\n"
	       "A long-polling chat server: a FastCGI daemon behind nginx, "
	       "with its\n"
	       "event log in SQLite. It runs in the foreground; stop it "
	       "with SIGTERM,\n"
	       "and SIGHUP re-reads the settings that can change live (the "
	       "log level\n"
	       "and the limits).\n\n"
	       "Each option is also a key of the configuration file, a "
	       "`key = value'\n"
	       "line (flags: yes or no; `#' starts a comment); the command "
	       "line wins.\n\n");
	for (i = 0; i < N_ENTRIES; i++)
		usage_entry(&table[i]);
	printf("\nExit status: 0 when stopped by SIGTERM (or --help, "
	       "--check-config);\n"
	       "1 when the environment is wrong (a file, a path, a user, a "
	       "socket in use);\n"
	       "2 for a bad option, key or value, on the command line or in "
	       "the file.\n");
}

/* Apply one line of the file; -1 after saying what is wrong. */
static int
file_line(struct conf *c, const char *path, int lineno, char *line,
    unsigned char *seen)
{
	const struct conf_entry *e;
	char			*p, *eq, *key, *value, where[PATH_MAX + 64];
	size_t			 len;

	for (p = line; *p != '\0'; p++)
		if (*p == '#' && (p == line || p[-1] == ' ' || p[-1] == '\t'))
			*p = '\0';
	len = strlen(line);
	while (len > 0 && strchr(" \t\r\n", line[len - 1]) != NULL)
		line[--len] = '\0';
	key = line + strspn(line, " \t");
	if (*key == '\0')
		return 0;
	if ((eq = strchr(key, '=')) == NULL) {
		conf_error("%s:%d: expected `key = value', not '%s'", path,
		    lineno, key);
		return -1;
	}
	value = eq + 1 + strspn(eq + 1, " \t");
	while (eq > key && (eq[-1] == ' ' || eq[-1] == '\t'))
		eq--;
	*eq = '\0';
	if ((e = entry_named(key)) == NULL) {
		conf_error("%s:%d: unknown key '%s' (see chatd --help)", path,
		    lineno, key);
		return -1;
	}
	if (e->flags & CF_ARGV) {
		conf_error("%s:%d: '%s' is for the command line only", path,
		    lineno, key);
		return -1;
	}
	if (seen[e - table]) {
		conf_error("%s:%d: '%s' is set twice", path, lineno, key);
		return -1;
	}
	seen[e - table] = 1;
	snprintf(where, sizeof where, "%s:%d: %s", path, lineno, key);
	return conf_set(c, e,
	    e->type == T_PATH || e->type == T_NAME ? conf_strdup(c, value) :
						     value,
	    where);
}

/*
 * Read the file at c->config_path; explicit if the command line named
 * it (then it must exist). CONF_OK, or why not after saying so.
 */
static enum conf_result
read_file(struct conf *c, int explicit)
{
	unsigned char seen[N_ENTRIES] = { 0 };
	FILE	     *f;
	char	     *line = NULL;
	size_t	      cap = 0;
	int	      lineno = 0, rc = CONF_OK;

	if ((f = fopen(c->config_path, "r")) == NULL) {
		if (errno == ENOENT && !explicit) {
			c->config_path = NULL;
			return CONF_OK;
		}
		conf_error("%s: %s", c->config_path, strerror(errno));
		return CONF_EXIT_ENV;
	}
	while (getline(&line, &cap, f) != -1) {
		if (file_line(c, c->config_path, ++lineno, line, seen) == -1) {
			rc = CONF_EXIT_USAGE;
			break;
		}
	}
	if (rc == CONF_OK && ferror(f)) {
		conf_error("%s: %s", c->config_path, strerror(errno));
		rc = CONF_EXIT_ENV;
	}
	free(line);
	fclose(f);
	return rc;
}

/* Where path is, with its directory's links resolved (a fresh string). */
static char *
canonical(const char *path)
{
	char   dir[PATH_MAX], base[PATH_MAX], real[PATH_MAX], *out;
	char  *d;
	size_t len;

	if (realpath(path, real) != NULL)
		return xstrdup(real);
	snprintf(dir, sizeof dir, "%s", path);
	snprintf(base, sizeof base, "%s", path);
	d = dirname(dir);
	if (realpath(d, real) == NULL)
		return xstrdup(path);
	len = strlen(real) + strlen(basename(base)) + 2;
	out = xmalloc(len);
	snprintf(out, len, "%s/%s", real, basename(base));
	return out;
}

/* Does --socket name the database or one of its files? */
static int
socket_is_db(const struct conf *c)
{
	static const char *const tails[] = { "", "-wal", "-shm", "-journal" };
	char			*sock, *db, *name;
	size_t			 i;
	int			 same = 0;

	sock = canonical(c->socket_path);
	db = canonical(c->db_path);
	for (i = 0; !same && i < sizeof tails / sizeof tails[0]; i++) {
		name = xmalloc(strlen(db) + strlen(tails[i]) + 1);
		memcpy(name, db, strlen(db));
		memcpy(name + strlen(db), tails[i], strlen(tails[i]) + 1);
		same = strcmp(sock, name) == 0;
		free(name);
	}
	free(sock);
	free(db);
	return same;
}

/* Check the settings together; -1 after saying what is wrong. */
static int
conf_check(struct conf *c)
{
	if (c->poll_timeout > c->poll_max)
		c->poll_timeout = c->poll_max;
	if (c->image_quota < (long)c->max_image) {
		conf_error("--image-quota (%ld bytes) must allow one image of "
			   "--max-image (%zu bytes)",
		    c->image_quota, c->max_image);
		return -1;
	}
	if (c->idle_timeout <= c->poll_max) {
		conf_error("--idle-timeout (%d) must be longer than "
			   "--poll-max (%d), or waiting clients time out",
		    c->idle_timeout, c->poll_max);
		return -1;
	}
	if (c->socket_mode & 0007) {
		conf_error("--socket-mode %04o lets others reach the FastCGI "
			   "socket: give nginx its group (--socket-group) "
			   "and others nothing",
		    (unsigned)c->socket_mode);
		return -1;
	}
	if (socket_is_db(c)) {
		conf_error("--socket %s names the database %s or one of its "
			   "files: refused",
		    c->socket_path, c->db_path);
		return -1;
	}
	return 0;
}

/* The defaults of the table. */
static void
conf_defaults(struct conf *c)
{
	size_t i;

	memset(c, 0, sizeof *c);
	for (i = 0; i < N_ENTRIES; i++)
		if (table[i].def != NULL)
			conf_set(c, &table[i], table[i].def, "default");
}

/*
 * The first pass over argv: --help, --version and bad options answer at
 * once; --config is noted. Sets *explicit if it was given.
 */
static enum conf_result
first_pass(struct conf *c, int argc, char **argv, int *explicit)
{
	const struct option	*opts;
	const struct conf_entry *e;
	const char		*shorts;
	int			 opt;

	opts = getopt_tables(&shorts);
	optind = 0;
	opterr = !conf_via_log;
	while ((opt = getopt_long(argc, argv, shorts, opts, NULL)) != -1) {
		if (opt == '?' || (e = entry_of_opt(opt)) == NULL)
			return CONF_EXIT_USAGE;
		if (strcmp(e->name, "help") == 0) {
			usage();
			return CONF_EXIT_OK;
		}
		if (strcmp(e->name, "version") == 0) {
			printf("chatd %s\n", PACKAGE_VERSION);
			return CONF_EXIT_OK;
		}
		if (strcmp(e->name, "config") == 0) {
			if (conf_set(c, e, optarg, "--config") == -1)
				return CONF_EXIT_USAGE;
			*explicit = 1;
		}
	}
	if (optind < argc) {
		conf_error("unexpected argument '%s'", argv[optind]);
		return CONF_EXIT_USAGE;
	}
	return CONF_OK;
}

/* The second pass: every option over what the file said. */
static enum conf_result
second_pass(struct conf *c, int argc, char **argv)
{
	const struct option	*opts;
	const struct conf_entry *e;
	const char		*shorts;
	char			 where[64];
	int			 opt;

	opts = getopt_tables(&shorts);
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, shorts, opts, NULL)) != -1) {
		if ((e = entry_of_opt(opt)) == NULL)
			return CONF_EXIT_USAGE;
		if (e->type == T_ACTION || strcmp(e->name, "config") == 0)
			continue;
		snprintf(where, sizeof where, "--%s", e->name);
		if (conf_set(c, e, e->type == T_BOOL ? "yes" : optarg, where) ==
		    -1)
			return CONF_EXIT_USAGE;
	}
	return CONF_OK;
}

/* Fill c from the defaults, the file, then argv; see conf.h. */
enum conf_result
conf_load(struct conf *c, int argc, char **argv)
{
	enum conf_result rc;
	int explicit = 0;

	conf_defaults(c);
	if ((rc = first_pass(c, argc, argv, &explicit)) != CONF_OK)
		return rc;
	if ((rc = read_file(c, explicit)) != CONF_OK)
		return rc;
	if ((rc = second_pass(c, argc, argv)) != CONF_OK)
		return rc;
	return conf_check(c) == 0 ? CONF_OK : CONF_EXIT_USAGE;
}

/* Log every effective setting, in one line. */
void
conf_log(const struct conf *c)
{
	char   line[3072], value[PATH_MAX];
	size_t i, len = 0;

	for (i = 0; i < N_ENTRIES && len < sizeof line; i++) {
		if (table[i].type == T_ACTION ||
		    strcmp(table[i].name, "check-config") == 0)
			continue;
		len += (size_t)snprintf(line + len, sizeof line - len,
		    "%s%s=%s", len ? " " : "", table[i].name,
		    conf_format(c, &table[i], value, sizeof value));
	}
	log_info("settings: %s", line);
}

/*
 * SIGHUP: read the file and argv again into a new conf; apply to live the
 * settings that may change while running, log each change, and warn of
 * those that need a restart. A bad file changes nothing: -1.
 */
int
conf_reload(struct conf *live, int argc, char **argv)
{
	struct conf		 n;
	const struct conf_entry *e;
	char			 was[PATH_MAX], now[PATH_MAX];
	int			 rc, changed = 0;

	conf_via_log = 1;
	rc = conf_load(&n, argc, argv);
	conf_via_log = 0;
	if (rc != CONF_OK) {
		log_error("SIGHUP: the configuration is not valid: nothing "
			  "changed");
		conf_free(&n);
		return -1;
	}
	for (e = table; e < table + N_ENTRIES; e++) {
		if (e->flags & CF_ARGV)
			continue;
		conf_format(live, e, was, sizeof was);
		conf_format(&n, e, now, sizeof now);
		if (strcmp(was, now) == 0)
			continue;
		changed = 1;
		if (!(e->flags & CF_LIVE)) {
			log_warn(
			    "SIGHUP: %s %s -> %s needs a restart: still %s",
			    e->name, was, now, was);
			continue;
		}
		log_info("SIGHUP: %s %s -> %s", e->name, was, now);
		memcpy((char *)live + e->off, (char *)&n + e->off, e->size);
		if (e->type == T_PER)
			memcpy((char *)live + e->off2, (char *)&n + e->off2,
			    sizeof(int));
	}
	log_set_level(live->log_level);
	if (!changed)
		log_info("SIGHUP: configuration read again: nothing changed");
	conf_free(&n);
	return 0;
}
