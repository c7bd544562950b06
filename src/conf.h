/*
 * conf: chatd's settings, from the command line and the configuration file.
 *
 * One table in conf.c describes every setting once: its long option (which
 * is also its key in the file), short option, type, range, default and help
 * line. The command line, the file (/etc/chatd/chatd.conf, or --config),
 * --help and the start-up log line are all made from it, so they cannot
 * drift apart. Values come from the defaults, then the file, then the
 * command line, which wins; conf_load checks that the result makes sense
 * together (a poll may not outlast the idle timeout, for one). On SIGHUP,
 * conf_reload reads them all again and applies the settings that can
 * change while chatd runs (the log level and the limits).
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#ifndef CHATD_CONF_H
#define CHATD_CONF_H

#include <stddef.h>
#include <sys/types.h>

#include "log.h"

struct conf {
	const char    *config_path;  /* the file read, or NULL if none */
	int	       check_config; /* --check-config: validate and exit */
	const char    *socket_path;
	mode_t	       socket_mode;
	const char    *socket_group;
	const char    *db_path;
	const char    *db_group; /* the database's group: 0640, not 0600 */
	const char    *user;	 /* drop to this user once ready */
	int	       allow_root;
	int	       workers;
	int	       poll_timeout; /* seconds, default wait */
	int	       poll_max;     /* seconds, longest wait */
	int	       idle_timeout; /* seconds */
	int	       rate_count;   /* sends ... */
	int	       rate_window;  /* ... per this many seconds */
	int	       sync_full;    /* synchronous=FULL, else NORMAL */
	int	       busy_timeout_ms;
	int	       watch_interval_ms; /* data_version check */
	int	       coalesce_delay_ms; /* least time between deliveries */
	size_t	       max_body;	  /* bytes of a form body */
	size_t	       max_image;	  /* bytes of an uploaded image */
	long	       image_quota;	  /* image bytes a session stores ... */
	int	       image_quota_window; /* ... per this many seconds */
	long	       image_store;	   /* image bytes in all; 0: no limit */
	int	       retain_days;	   /* history kept; 0: for ever */
	int	       index_delay_ms;	   /* new events to the search index */
	enum log_level log_level;
	int	       session_polls;	/* parked polls per session */
	const char    *log_file;	/* instead of stderr, or NULL */
	int	       syslog;		/* also log to syslog */
	int	       syslog_facility; /* index into log_syslog's names */
	struct conf_string *owned;	/* strings read from the file */
};

enum conf_result {
	CONF_OK,
	CONF_EXIT_OK,	 /* --help or --version was answered */
	CONF_EXIT_USAGE, /* a bad option, key or value: exit 2 */
	CONF_EXIT_ENV	 /* the file cannot be read: exit 1 */
};

enum conf_result conf_load(struct conf *, int, char **);
int		 conf_reload(struct conf *, int, char **);
void		 conf_log(const struct conf *);
void		 conf_free(struct conf *);

#endif
