/*
 * event: events in memory, their JSON, and their visibility (see event.h).
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "json.h"
#include "xmalloc.h"

/* A new zeroed event at the end of the list. */
struct event *
event_list_push(struct event_list *l)
{
	struct event *e;

	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->v = xrealloc(l->v, l->cap * sizeof *l->v);
	}
	e = &l->v[l->n++];
	memset(e, 0, sizeof *e);
	e->online = -1;
	return e;
}

/* Free every event and the list's array. */
void
event_list_clear(struct event_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].type);
		free(l->v[i].room);
		free(l->v[i].from);
		free(l->v[i].to);
		free(l->v[i].text);
	}
	free(l->v);
	memset(l, 0, sizeof *l);
}

/*
 * May the holder of session sid, polling room, see e? join and leave:
 * everyone. Addressed to someone: its sender and its recipient. Otherwise
 * a message or image of that room.
 */
int
event_visible(const struct event *e, const char *room, int64_t sid)
{
	if (strcmp(e->type, "join") == 0 || strcmp(e->type, "leave") == 0)
		return 1;
	if (e->to != NULL)
		return sid != 0 &&
		    (e->sender_session == sid || e->recipient_session == sid);
	if (strcmp(e->type, "message") != 0 && strcmp(e->type, "image") != 0)
		return 0;
	return e->room != NULL && strcmp(e->room, room) == 0;
}

static void
field_str(struct buf *b, const char *key, const char *value)
{
	if (value == NULL)
		return;
	buf_addc(b, ',');
	json_key(b, key);
	json_cstring(b, value);
}

/* Append e as a JSON object, with the fields docs/api.md gives its type. */
void
event_json(struct buf *b, const struct event *e)
{
	buf_addc(b, '{');
	json_key(b, "id");
	json_int(b, e->id);
	buf_addc(b, ',');
	json_key(b, "ts");
	json_int(b, e->ts);
	field_str(b, "type", e->type);
	if (e->to == NULL)
		field_str(b, "room", e->room);
	field_str(b, "from", e->from);
	field_str(b, "to", e->to);
	if (e->image > 0) {
		buf_addc(b, ',');
		json_key(b, "image");
		json_int(b, e->image);
	}
	if (e->text != NULL) {
		buf_addc(b, ',');
		json_key(b, "text");
		json_string(b, e->text, e->text_len);
	}
	if (e->online >= 0) {
		buf_addc(b, ',');
		json_key(b, "online");
		json_int(b, e->online);
	}
	buf_addc(b, '}');
}

/* Append e as a piece of a list: a comma, then its JSON object. */
void
event_piece_json(struct buf *b, const struct event *e)
{
	buf_addc(b, ',');
	event_json(b, e);
}

/* Append the events [from, from + n) of l as a JSON array. */
void
event_list_json(
    struct buf *b, const struct event_list *l, size_t from, size_t n)
{
	size_t i;

	buf_addc(b, '[');
	for (i = from; i < from + n && i < l->n; i++) {
		if (i > from)
			buf_addc(b, ',');
		event_json(b, &l->v[i]);
	}
	buf_addc(b, ']');
}
