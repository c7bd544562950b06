/*
 * notify: telling systemd how chatd is doing (sd_notify(3)), for a unit
 * of Type=notify.
 *
 * notify_ready says READY=1 once the socket is listening, notify_stopping
 * says STOPPING=1 when a clean stop begins; both from the main process
 * only (a worker's message would be refused by systemd's NotifyAccess=main
 * default, and logged). Built without libsystemd (./configure
 * --without-libsystemd, or no libsystemd-dev), chatd tells systemd
 * nothing: both functions do nothing, and its unit is Type=simple, where
 * systemd takes chatd as started once it has forked it. Outside systemd
 * (no NOTIFY_SOCKET in the environment) sd_notify itself does nothing.
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#ifndef CHATD_NOTIFY_H
#define CHATD_NOTIFY_H

void notify_ready(void);
void notify_stopping(void);

#endif
