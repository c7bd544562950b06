/*
 * router: from method and path to the handler, or 404 / 405; and how
 * large a body each path may have.
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#ifndef CHATD_ROUTER_H
#define CHATD_ROUTER_H

#include "app.h"
#include "conn.h"

void   router_dispatch(struct app *, struct conn *);
size_t router_body_limit(const struct app *, const char *);
size_t router_max_body(const struct app *);

#endif
