/*
 * log: one logger with levels, to standard error, and to syslog if asked.
 *
 * chatd runs in the foreground under a supervisor (systemd, tools/stack),
 * which keeps the log; every line carries the level and the worker's pid.
 * When standard error is journald's stream (JOURNAL_STREAM names it), each
 * line starts with its syslog priority, <3> to <7>, and no time stamp
 * (journald has its own), so that journalctl -p sees the levels. With
 * --log-file, standard error itself is that file, opened again on SIGHUP.
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#ifndef CHATD_LOG_H
#define CHATD_LOG_H

enum log_level { LOG_ERROR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG };

int  log_parse_level(const char *, enum log_level *);
int  log_open(int, int, const char *);
void log_reopen(void);
void log_set_level(enum log_level);
int  log_enabled(enum log_level);
void log_msg(enum log_level, const char *, ...)
    __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(fmt, ...) \
	log_msg(LOG_DEBUG, "%s: " fmt, __func__, ##__VA_ARGS__)

#endif
