/*
 * router: from method and path to the handler, or 404 / 405.
 */
#ifndef CHATD_ROUTER_H
#define CHATD_ROUTER_H

#include "app.h"
#include "conn.h"

void	router_dispatch(struct app *, struct conn *);

#endif
