/*
 * notify: READY=1 and STOPPING=1 for systemd (see notify.h).
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#include <unistd.h>

#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "notify.h"

static pid_t main_pid; /* the process that said READY=1 */

/* Tell systemd that chatd is listening: from the main process. */
void
notify_ready(void)
{
	main_pid = getpid();
#ifdef HAVE_LIBSYSTEMD
	sd_notify(0, "READY=1");
#endif
}

/* Tell systemd that a clean stop has begun, if this is the main process. */
void
notify_stopping(void)
{
	if (main_pid != getpid())
		return;
#ifdef HAVE_LIBSYSTEMD
	sd_notify(0, "STOPPING=1");
#endif
}
