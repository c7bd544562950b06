/*
 * log: levelled lines on standard error, and syslog (see log.h).
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "log_syslog.h"

static enum log_level log_level = LOG_INFO;
static const char    *log_names[] = { "error", "warn", "info", "debug" };
static int	      to_journal; /* stderr is journald's: <N> prefixes */
static int	      to_syslog;
static const char    *log_file; /* standard error is this file */

/* Parse a level name; 0 on success, -1 if the name is unknown. */
int
log_parse_level(const char *name, enum log_level *level)
{
	size_t i;

	for (i = 0; i < sizeof log_names / sizeof log_names[0]; i++) {
		if (strcmp(name, log_names[i]) == 0) {
			*level = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

/*
 * Is standard error journald's stream? systemd sets JOURNAL_STREAM to
 * "DEVICE:INODE" of the stream it gave; a descriptor passed on to
 * something else (a pipe, a file) no longer matches (systemd.exec(5)).
 */
static int
stderr_is_journal(void)
{
	const char	  *env = getenv("JOURNAL_STREAM");
	struct stat	   st;
	unsigned long long dev, ino;
	char		   tail;

	if (env == NULL || fstat(STDERR_FILENO, &st) == -1)
		return 0;
	if (sscanf(env, "%llu:%llu%c", &dev, &ino, &tail) != 2)
		return 0;
	return dev == (unsigned long long)st.st_dev &&
	    ino == (unsigned long long)st.st_ino;
}

/*
 * Make standard error the file at path, appending (made 0600 if missing).
 * -1 after saying why on the standard error that was.
 */
static int
open_file(const char *path)
{
	int fd;

	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd == -1) {
		log_msg(LOG_ERROR, "--log-file %s: %s", path, strerror(errno));
		return -1;
	}
	if (fd != STDERR_FILENO) {
		dup2(fd, STDERR_FILENO);
		close(fd);
	}
	return 0;
}

/*
 * Choose the outputs: file instead of standard error if not NULL (path
 * kept for log_reopen), syslog too if use_syslog, at facility. -1 if the
 * file cannot be opened.
 */
int
log_open(int use_syslog, int facility, const char *file)
{
	if (file != NULL && open_file(file) == -1)
		return -1;
	log_file = file;
	to_journal = stderr_is_journal();
	to_syslog = use_syslog;
	if (use_syslog)
		log_syslog_open(facility);
	return 0;
}

/* SIGHUP: open the log file again (it may have been rotated away). */
void
log_reopen(void)
{
	if (log_file != NULL && open_file(log_file) == 0)
		to_journal = 0;
}

void
log_set_level(enum log_level level)
{
	log_level = level;
}

int
log_enabled(enum log_level level)
{
	return level <= log_level;
}

/* Write one line: time, pid, level, message. */
void
log_msg(enum log_level level, const char *fmt, ...)
{
	char	  line[4096], stamp[32];
	struct tm tm;
	time_t	  now;
	va_list	  ap;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (to_syslog)
		log_syslog_write((int)level, line);
	if (to_journal) {
		fprintf(stderr, "<%d>chatd[%ld] %s: %s\n",
		    log_syslog_priority((int)level), (long)getpid(),
		    log_names[level], line);
		return;
	}
	now = time(NULL);
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(stderr, "%s chatd[%ld] %s: %s\n", stamp, (long)getpid(),
	    log_names[level], line);
}
