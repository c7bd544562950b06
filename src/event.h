/*
 * event: one row of the event log, in memory, and who may see it.
 *
 * The rule of docs/api.md, "who sees what", lives twice: as SQL in store.c (so
 * history can use the indexes) and here as C (so the waiter can sort a
 * batch of new rows among thousands of parked polls without a query per
 * poll). The tests check that both agree.
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#ifndef CHATD_EVENT_H
#define CHATD_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct event {
	int64_t id;
	int64_t ts;
	char   *type;
	char   *room; /* NULL if none */
	char   *from;
	char   *to;   /* NULL unless private */
	char   *text; /* NULL if none; may hold NULs */
	size_t	text_len;
	int64_t image;		/* 0 if none */
	int64_t online;		/* -1 if none (join and leave have it) */
	int64_t sender_session; /* 0 if none */
	int64_t recipient_session;
};

struct event_list {
	struct event *v;
	size_t	      n;
	size_t	      cap;
};

/*
 * An event's JSON as a piece of a list, ",{...}" with the comma before
 * it (a list skips its first piece's comma), and its id. An event is
 * encoded once into a piece that every answer showing it shares.
 */
struct event_piece {
	int64_t	    id;
	const char *json;
	size_t	    len;
};

struct event *event_list_push(struct event_list *);
void	      event_list_clear(struct event_list *);
int	      event_visible(const struct event *, const char *, int64_t);
void	      event_json(struct buf *, const struct event *);
void	      event_piece_json(struct buf *, const struct event *);
void event_list_json(struct buf *, const struct event_list *, size_t, size_t);

#endif
