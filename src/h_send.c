/*
 * h_send: POST /api/send, a message to a room or to one person, and
 * POST /api/image, an image to either.
 *
 * A send is checked at once, but written with the other sends that arrive
 * in the same turn of the loop: one transaction, one commit, one fsync
 * for all of them (group commit). Each is answered once that commit is
 * durable, so a 200 still means the message survives a crash. An image
 * is a send whose event points to the uploaded bytes, stored in the same
 * transaction; it is judged by its bytes (validate_image), never by its
 * name or declared type.
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#include <stdio.h>
#include <string.h>

#include "handlers.h"
#include "indexer.h"
#include "json.h"
#include "loop.h"
#include "metrics.h"
#include "nick.h"
#include "reply.h"
#include "session.h"
#include "validate.h"
#include "watch.h"
#include "xmalloc.h"

/* A checked send waiting for the batch's commit. */
struct pending_send {
	struct store_send m; /* first: the batch is of these */
	struct conn	 *conn;
};

static struct store_send **queue; /* of struct pending_send */
static size_t		   queued, queue_cap;
static struct loop_post	   flush_post;
static struct app	  *send_app;

/*
 * Check where the send goes (room, or to) and its client_id into m; 0 if
 * sound, else -1 with the error to answer in *err and a sentence for
 * people in *why.
 */
static int
send_read_target(
    struct conn *c, struct store_send *m, enum api_error *err, const char **why)
{
	const struct str *room, *to, *cid;
	struct pool	 *pool = c->req.pool;
	struct nick_keys  keys;

	m->room = "lobby";
	if ((room = request_arg(&c->req, "room")) != NULL) {
		if ((*why = validate_room(room->p, room->len)) != NULL) {
			*err = API_BAD_ROOM;
			return -1;
		}
		m->room = pool_strndup(pool, room->p, room->len);
	}
	if ((to = request_arg(&c->req, "to")) != NULL) {
		/*
		 * Found by its look-alike keys, so "ALICE" reaches alice; a
		 * nick that breaks the rules of today may still be online
		 * from before them, so only what has no key is nobody.
		 */
		nick_keys_init(&keys);
		if (to->len == 0 || nick_keys(to->p, to->len, &keys) == -1) {
			nick_keys_free(&keys);
			*why = "Nobody online has that nick.";
			*err = API_NO_SUCH_USER;
			return -1;
		}
		m->to = pool_strndup(pool, to->p, to->len);
		m->to_skeleton =
		    pool_strndup(pool, keys.skeleton.data, keys.skeleton.len);
		m->to_skeleton_caps = pool_strndup(
		    pool, keys.skeleton_caps.data, keys.skeleton_caps.len);
		nick_keys_free(&keys);
		m->room = NULL;
	}
	if ((cid = request_arg(&c->req, "client_id")) != NULL && cid->len > 0) {
		if ((*why = validate_client_id(cid->p, cid->len)) != NULL) {
			*err = API_BAD_REQUEST;
			return -1;
		}
		m->client_id = cid->p;
		m->client_id_len = cid->len;
	}
	return 0;
}

/* Check a message's form into m (send_read_target, and its text). */
static int
send_read_form(struct app *app, struct conn *c, struct store_send *m,
    enum api_error *err, const char **why)
{
	const struct str *text;

	text = request_arg(&c->req, "text");
	if (text == NULL) {
		*why = "Text is required.";
		*err = API_BAD_TEXT;
		return -1;
	}
	if ((*why = validate_text(text->p, text->len)) != NULL) {
		*err = API_BAD_TEXT;
		return -1;
	}
	m->text = text->p;
	m->text_len = text->len;
	return send_read_target(c, m, err, why);
}

/*
 * Check an upload's form into m: the file is an image of an accepted
 * kind within --max-image; then send_read_target.
 */
static int
image_read_form(struct app *app, struct conn *c, struct store_send *m,
    enum api_error *err, const char **why)
{
	const struct request *r = &c->req;

	if (r->file == NULL) {
		*why = "Choose an image: the form needs a part named file.";
		*err = API_BAD_IMAGE;
		return -1;
	}
	if (r->file_len > app->conf->max_image) {
		*why = "The image is too large.";
		*err = API_TOO_LARGE;
		return -1;
	}
	if ((*why = validate_image((const unsigned char *)r->file, r->file_len,
		 &m->image_type)) != NULL) {
		*err = API_BAD_IMAGE;
		return -1;
	}
	m->image = r->file;
	m->image_len = r->file_len;
	return send_read_target(c, m, err, why);
}

/* Answer a send: its id, or why the store refused it. */
static void
send_answer(struct conn *c, const struct store_send *m)
{
	struct buf body;
	char	   header[64];

	switch (m->result) {
	case STORE_OK:
		buf_init(&body);
		buf_addc(&body, '{');
		json_key(&body, "id");
		json_int(&body, m->id);
		/* (A client_id first used for a message has no image.) */
		if (m->image != NULL && m->image_id > 0) {
			buf_addc(&body, ',');
			json_key(&body, "image");
			json_int(&body, m->image_id);
		}
		buf_addc(&body, '}');
		reply_json(c, &body, NULL);
		buf_free(&body);
		break;
	case STORE_LIMITED:
	case STORE_IMAGE_QUOTA:
		snprintf(header, sizeof header, "Retry-After: %lld\r\n",
		    (long long)((m->retry_ms + 999) / 1000));
		reply_error(c, API_RATE_LIMITED,
		    m->result == STORE_LIMITED ?
			"Too many messages: wait a little." :
			"Too many image bytes: wait a little.",
		    header);
		break;
	case STORE_FULL:
		reply_error(c, API_UNAVAILABLE,
		    "The image store is full: ask the administrator.", NULL);
		break;
	case STORE_NOT_FOUND:
		reply_error(
		    c, API_NO_SUCH_USER, "Nobody online has that nick.", NULL);
		break;
	case STORE_ENDED:
		reply_error(c, API_NO_SESSION,
		    "The session has ended: log in again.", NULL);
		break;
	default:
		reply_error(
		    c, API_UNAVAILABLE, "The store is unavailable.", NULL);
	}
}

/* Write the queued sends in one transaction and answer each. */
static void
flush_sends(struct loop_post *p)
{
	struct pending_send *ps;
	size_t		     i, n = queued;
	int		     wrote = 0;

	store_send_batch(send_app->store, queue, n);
	queued = 0;
	for (i = 0; i < n; i++) {
		ps = (struct pending_send *)queue[i];
		wrote |= ps->m.result == STORE_OK;
		if (ps->m.result == STORE_OK)
			metrics_send();
		send_answer(ps->conn, &ps->m); /* frees ps with the pool */
	}
	if (wrote) {
		watch_wrote();
		indexer_wrote();
	}
}

/* Queue the checked send ps of session s for the batch's commit. */
static void
send_queue(struct app *app, struct conn *c, const struct store_session *s,
    struct pending_send *ps)
{
	ps->conn = c;
	ps->m.session = s->id;
	ps->m.from = pool_strndup(c->req.pool, s->nick, strlen(s->nick));
	ps->m.rate_count = app->conf->rate_count;
	ps->m.rate_window_ms = app->conf->rate_window * 1000LL;
	ps->m.image_quota = app->conf->image_quota;
	ps->m.image_window_ms = app->conf->image_quota_window * 1000LL;
	ps->m.image_store_max = app->conf->image_store;
	ps->m.now_ms = loop_wall_ms();
	if (queued == queue_cap) {
		queue_cap = queue_cap ? queue_cap * 2 : 64;
		queue = xrealloc(queue, queue_cap * sizeof *queue);
	}
	queue[queued++] = &ps->m;
	send_app = app;
	loop_post(&flush_post, flush_sends);
}

/* Check a send's form into m; 0 if sound, else -1 with why. */
typedef int (*form_reader)(struct app *, struct conn *, struct store_send *,
    enum api_error *, const char **);

/*
 * Take a send whose form read_form checks: answer what is wrong with it,
 * or queue it for the batch. The cached session is checked again in the
 * batch's transaction.
 */
static void
take_send(struct app *app, struct conn *c, form_reader read_form)
{
	struct store_session s;
	struct pending_send *ps;
	enum api_error	     err;
	const char	    *why = NULL;

	if (session_require_csrf(app, c, &s, SESSION_CACHED) == -1)
		return;
	ps = pool_alloc(c->req.pool, sizeof *ps);
	memset(ps, 0, sizeof *ps);
	if (read_form(app, c, &ps->m, &err, &why) == -1) {
		reply_error(c, err, why, NULL);
		return;
	}
	send_queue(app, c, &s, ps);
}

/* POST /api/send: text, room, to, client_id. */
void
h_send(struct app *app, struct conn *c)
{
	take_send(app, c, send_read_form);
}

/*
 * POST /api/image (multipart/form-data): file, csrf, room, to,
 * client_id; with ?frame=1 every answer is an HTML page (reply.c).
 */
void
h_image(struct app *app, struct conn *c)
{
	take_send(app, c, image_read_form);
}
