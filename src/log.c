/*
 * log: levelled lines on standard error (see log.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static enum log_level log_level = LOG_INFO;
static const char    *log_names[] = { "error", "warn", "info", "debug" };

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
	char	  line[1024], stamp[32];
	struct tm tm;
	time_t	  now;
	va_list	  ap;

	if (!log_enabled(level))
		return;
	now = time(NULL);
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s chatd[%ld] %s: %s\n", stamp, (long)getpid(),
	    log_names[level], line);
}
