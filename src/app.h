/*
 * app: what every handler works with, set up once by main.
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#ifndef CHATD_APP_H
#define CHATD_APP_H

#include "conf.h"
#include "store.h"

struct app {
	const struct conf *conf;
	struct store	  *store;
	int		   stopping; /* SIGTERM: park no more polls */
};

#endif
