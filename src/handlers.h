/*
 * handlers: one function per endpoint of docs/api.md, called by the router
 * once the method is right. Each answers its conn (through reply.c) or
 * parks it (a waiting poll, through waiter.c).
 *
 *   h_session.c  POST /api/login, POST /api/logout, GET /api/users
 *   h_presence.c GET /api/session, POST /api/away
 *   h_send.c     POST /api/send, POST /api/image
 *   h_image.c    GET /api/image/ID
 *   h_poll.c     GET /api/poll, GET /api/history
 *   h_ops.c      GET /api/metrics, GET /api/health (for operators)
 *   h_search.c   GET /api/search
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#ifndef CHATD_HANDLERS_H
#define CHATD_HANDLERS_H

#include "app.h"
#include "conn.h"
#include "event.h"

void h_login(struct app *, struct conn *);
void h_logout(struct app *, struct conn *);
void h_users(struct app *, struct conn *);
void h_session_get(struct app *, struct conn *);
void h_away(struct app *, struct conn *);
void h_send(struct app *, struct conn *);
void h_image(struct app *, struct conn *);
void h_image_get(struct app *, struct conn *);
void h_poll(struct app *, struct conn *);
void h_history(struct app *, struct conn *);
void poll_answer(struct conn *, const struct event_piece *, size_t, int64_t);
void h_metrics(struct app *, struct conn *);
void h_health(struct app *, struct conn *);
void h_search(struct app *, struct conn *);

#endif
