/*
 * h_send: POST /api/send, a message to a room or to one person.
 */
#include <stdio.h>
#include <string.h>

#include "handlers.h"
#include "json.h"
#include "loop.h"
#include "reply.h"
#include "session.h"
#include "validate.h"
#include "watch.h"

/*
 * Check the form into m; 0 if it is sound, else -1 with the error to
 * answer in *err and a sentence for people in *why.
 */
static int
send_read_form(struct conn *c, struct store_send *m, struct buf *to_key,
    enum api_error *err, const char **why)
{
	const struct str	*text, *room, *to, *cid;
	struct pool		*pool = c->req.pool;

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
	m->room = "lobby";
	if ((room = request_arg(&c->req, "room")) != NULL) {
		if ((*why = validate_room(room->p, room->len)) != NULL) {
			*err = API_BAD_ROOM;
			return -1;
		}
		m->room = pool_strndup(pool, room->p, room->len);
	}
	if ((to = request_arg(&c->req, "to")) != NULL) {
		if (validate_nick(to->p, to->len) != NULL) {
			*why = "Nobody online has that nick.";
			*err = API_NO_SUCH_USER;
			return -1;
		}
		m->to = pool_strndup(pool, to->p, to->len);
		validate_fold_nick(to->p, to->len, to_key);
		m->to_key = to_key->data;
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

/* Answer a send the store refused. */
static void
send_refused(struct conn *c, enum store_result r, int64_t retry_ms)
{
	char	header[64];

	switch (r) {
	case STORE_LIMITED:
		snprintf(header, sizeof header, "Retry-After: %lld\r\n",
		    (long long)((retry_ms + 999) / 1000));
		reply_error(c, API_RATE_LIMITED,
		    "Too many messages: wait a little.", header);
		break;
	case STORE_NOT_FOUND:
		reply_error(c, API_NO_SUCH_USER, "Nobody online has that nick.",
		    NULL);
		break;
	default:
		reply_error(c, API_UNAVAILABLE, "The store is unavailable.",
		    NULL);
	}
}

/* POST /api/send: text, room, to, client_id. */
void
h_send(struct app *app, struct conn *c)
{
	struct store_session	 s;
	struct store_send	 m;
	enum api_error		 err;
	const char		*why = NULL;
	struct buf		 to_key, body;
	enum store_result	 r;
	int64_t			 id = 0, retry_ms = 0;

	if (session_require_csrf(app, c, &s) == -1)
		return;
	memset(&m, 0, sizeof m);
	buf_init(&to_key);
	if (send_read_form(c, &m, &to_key, &err, &why) == -1) {
		reply_error(c, err, why, NULL);
		buf_free(&to_key);
		return;
	}
	m.session = s.id;
	m.from = s.nick;
	m.rate_count = app->conf->rate_count;
	m.rate_window_ms = app->conf->rate_window * 1000LL;
	m.now_ms = loop_wall_ms();
	r = store_send(app->store, &m, &id, &retry_ms);
	buf_free(&to_key);
	if (r != STORE_OK) {
		send_refused(c, r, retry_ms);
		return;
	}
	buf_init(&body);
	buf_addc(&body, '{');
	json_key(&body, "id");
	json_int(&body, id);
	buf_addc(&body, '}');
	reply_json(c, &body, NULL);
	buf_free(&body);
	watch_wrote();
}
