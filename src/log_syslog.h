/*
 * log_syslog: log.c's lines to syslog(3) as well (--syslog).
 *
 * A file of its own because <syslog.h> names its priorities LOG_INFO and
 * LOG_DEBUG, as log.h names chatd's levels. Levels are log.h's numbers
 * (0 error .. 3 debug); the facility is an index into
 * log_syslog_facilities, the names --syslog-facility takes.
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#ifndef CHATD_LOG_SYSLOG_H
#define CHATD_LOG_SYSLOG_H

extern const char *const log_syslog_facilities[];

void log_syslog_open(int);
void log_syslog_write(int, const char *);
int  log_syslog_priority(int);

#endif
