/*
 * away: sessions whose page said it was going away (POST /api/away).
 *
 * A page that closes cannot wait for a logout, so it sends a beacon; the
 * session then ends after a short grace (AWAY_GRACE_MS) with a "timeout"
 * leave, unless a request of the same session comes first (a reload, or
 * another tab of the same browser) or a poll of it is still parked in this
 * process at the end of the grace. The marks live in the process that got
 * the beacon; the end itself is the store's, written exactly once however
 * many processes try.
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#ifndef CHATD_AWAY_H
#define CHATD_AWAY_H

#include <stdint.h>

#include "app.h"

#define AWAY_GRACE_MS 10000

void away_mark(struct app *, int64_t);
void away_seen(int64_t);
void away_stop(void);

#endif
