/*
 * log_syslog: chatd's levels as syslog priorities (see log_syslog.h).
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#include <stddef.h>
#include <syslog.h>

#include "log_syslog.h"

const char *const log_syslog_facilities[] = { "daemon", "user", "local0",
	"local1", "local2", "local3", "local4", "local5", "local6", "local7",
	NULL };

static const int facility_codes[] = { LOG_DAEMON, LOG_USER, LOG_LOCAL0,
	LOG_LOCAL1, LOG_LOCAL2, LOG_LOCAL3, LOG_LOCAL4, LOG_LOCAL5, LOG_LOCAL6,
	LOG_LOCAL7 };

/* The syslog priority of a chatd level: also journald's <N> prefix. */
int
log_syslog_priority(int level)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };

	return level >= 0 && level < 4 ? prio[level] : LOG_INFO;
}

/* Open the connection to syslog, as "chatd" with the pid. */
void
log_syslog_open(int facility)
{
	int n = (int)(sizeof facility_codes / sizeof facility_codes[0]);

	openlog("chatd", LOG_PID | LOG_NDELAY,
	    facility >= 0 && facility < n ? facility_codes[facility] :
					    LOG_DAEMON);
}

/* Send one line at a chatd level. */
void
log_syslog_write(int level, const char *line)
{
	syslog(log_syslog_priority(level), "%s", line);
}
