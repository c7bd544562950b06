/*
 * conf: chatd's settings, from the command line.
 *
 * One struct conf holds every tunable with its default; conf_parse fills
 * it from argv and checks that the values make sense together (a poll may
 * not outlast the idle timeout, for one).
 */
#ifndef CHATD_CONF_H
#define CHATD_CONF_H

#include <stddef.h>
#include <sys/types.h>

#include "log.h"

struct conf {
	const char    *socket_path;
	mode_t	       socket_mode;
	const char    *socket_group;
	const char    *db_path;
	int	       workers;
	int	       poll_timeout; /* seconds, default wait */
	int	       poll_max;     /* seconds, longest wait */
	int	       idle_timeout; /* seconds */
	int	       rate_count;   /* sends ... */
	int	       rate_window;  /* ... per this many seconds */
	int	       sync_full;    /* synchronous=FULL, else NORMAL */
	int	       busy_timeout_ms;
	int	       watch_interval_ms; /* data_version check */
	size_t	       max_body;	  /* bytes of a form body */
	size_t	       max_image;	  /* bytes of an uploaded image */
	long	       image_quota;	  /* image bytes a session stores ... */
	int	       image_quota_window; /* ... per this many seconds */
	long	       image_store;	   /* image bytes in all; 0: no limit */
	int	       retain_days;	   /* history kept; 0: for ever */
	int	       index_delay_ms;	   /* new events to the search index */
	enum log_level log_level;
	int	       session_polls; /* parked polls per session */
};

enum conf_result {
	CONF_OK,
	CONF_EXIT_OK, /* --help or --version was answered */
	CONF_EXIT_ERROR
};

void		 conf_defaults(struct conf *);
enum conf_result conf_parse(struct conf *, int, char **);

#endif
