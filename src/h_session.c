/*
 * h_session: logging in and out, and who is online.
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#include <string.h>

#include "handlers.h"
#include "json.h"
#include "loop.h"
#include "nick.h"
#include "reply.h"
#include "session.h"
#include "validate.h"
#include "watch.h"

/* Append "users":[{"nick","since","idle"}...] from the store's list. */
static void
users_json(struct buf *b, const struct store_users *u, int64_t now)
{
	size_t	i;
	int64_t idle;

	json_key(b, "users");
	buf_addc(b, '[');
	for (i = 0; i < u->n; i++) {
		idle = (now - u->v[i].last_seen_ms) / 1000;
		if (i > 0)
			buf_addc(b, ',');
		buf_addc(b, '{');
		json_key(b, "nick");
		json_cstring(b, u->v[i].nick);
		buf_addc(b, ',');
		json_key(b, "since");
		json_int(b, u->v[i].since_ms);
		buf_addc(b, ',');
		json_key(b, "idle");
		json_int(b, idle < 0 ? 0 : idle);
		buf_addc(b, '}');
	}
	buf_addc(b, ']');
}

/* The answer to a login: who, the tokens, the cursor, who is online. */
static void
login_json(struct buf *b, const char *nick, const struct session_tokens *t,
    int64_t cursor, const struct store_users *u, int64_t now)
{
	buf_addc(b, '{');
	json_key(b, "nick");
	json_cstring(b, nick);
	buf_addc(b, ',');
	json_key(b, "session");
	json_cstring(b, t->token);
	buf_addc(b, ',');
	json_key(b, "csrf");
	json_cstring(b, t->csrf);
	buf_addc(b, ',');
	json_key(b, "cursor");
	json_int(b, cursor);
	buf_addc(b, ',');
	users_json(b, u, now);
	buf_addc(b, '}');
}

/*
 * The nick n as stored (nick.h): NFC, folded, its keys, into the buffers
 * given (initialized) and *out. -1 if ICU fails.
 */
static int
login_nick(const struct str *n, struct buf *nfc, struct buf *fold,
    struct nick_keys *keys, struct store_nick *out)
{
	if (nick_nfc(n->p, n->len, nfc) == -1 ||
	    nick_fold(nfc->data, nfc->len, fold) == -1 ||
	    nick_keys(nfc->data, nfc->len, keys) == -1)
		return -1;
	out->nick = nfc->data;
	out->fold = fold->data;
	out->skeleton = keys->skeleton.data;
	out->skeleton_caps = keys->skeleton_caps.data;
	return 0;
}

/*
 * "; Secure" for a cookie set over HTTPS (nginx passes HTTPS=on), so that
 * the browser never sends it back over plain HTTP; "" otherwise, or a
 * chat served over plain HTTP would lose its cookie.
 */
static const char *
cookie_secure(const struct request *req)
{
	return req->https != NULL && strcmp(req->https, "on") == 0 ?
	    "; Secure" :
	    "";
}

/* POST /api/login: nick. Starts a session and writes its join. */
void
h_login(struct app *app, struct conn *c)
{
	const struct str     *nick;
	const char	     *why;
	struct session_tokens t;
	struct store_users    users;
	struct store_nick     sn;
	struct nick_keys      keys;
	struct buf	      nfc, fold, body, cookie;
	enum store_result     r = STORE_UNAVAILABLE;
	int64_t		      sid, cursor, now = loop_wall_ms();
	char		     *nick_z = NULL;

	nick = request_arg(&c->req, "nick");
	if (nick == NULL) {
		reply_error(c, API_BAD_NICK, "A nick is required.", NULL);
		return;
	}
	if ((why = validate_nick(nick->p, nick->len)) != NULL) {
		reply_error(c, API_BAD_NICK, why, NULL);
		return;
	}
	if (session_new_tokens(&t) == -1) {
		reply_error(c, API_UNAVAILABLE, "No randomness.", NULL);
		return;
	}
	buf_init(&nfc);
	buf_init(&fold);
	nick_keys_init(&keys);
	if (login_nick(nick, &nfc, &fold, &keys, &sn) == 0)
		r = store_login(app->store, &sn, t.hash, t.csrf, now, &sid,
		    &cursor, &users);
	if (r == STORE_OK)
		nick_z = pool_strndup(c->req.pool, nfc.data, nfc.len);
	nick_keys_free(&keys);
	buf_free(&fold);
	buf_free(&nfc);
	if (r == STORE_CONFLICT) {
		reply_error(c, API_NICK_TAKEN, "That nick is taken.", NULL);
		return;
	}
	if (r != STORE_OK) {
		reply_error(
		    c, API_UNAVAILABLE, "The store is unavailable.", NULL);
		return;
	}
	buf_init(&body);
	buf_init(&cookie);
	login_json(&body, nick_z, &t, cursor, &users, now);
	buf_printf(&cookie,
	    "Set-Cookie: chat_session=%s; Path=/; HttpOnly; "
	    "SameSite=Strict%s\r\n",
	    t.token, cookie_secure(&c->req));
	reply_json(c, &body, cookie.data);
	buf_free(&body);
	buf_free(&cookie);
	store_users_free(&users);
	watch_wrote();
}

/* POST /api/logout: ends the session, frees the nick, writes a leave. */
void
h_logout(struct app *app, struct conn *c)
{
	struct store_session s;
	struct buf	     body, cookie;

	if (session_require_csrf(app, c, &s, SESSION_STORE) == -1)
		return;
	if (store_logout(app->store, s.id, loop_wall_ms()) != STORE_OK) {
		reply_error(
		    c, API_UNAVAILABLE, "The store is unavailable.", NULL);
		return;
	}
	buf_init(&body);
	buf_adds(&body, "{\"ok\":true}");
	buf_init(&cookie);
	buf_printf(&cookie,
	    "Set-Cookie: chat_session=; Path=/; Max-Age=0; "
	    "HttpOnly; SameSite=Strict%s\r\n",
	    cookie_secure(&c->req));
	reply_json(c, &body, cookie.data);
	buf_free(&body);
	buf_free(&cookie);
	watch_wrote();
}

/* GET /api/users: the live sessions. */
void
h_users(struct app *app, struct conn *c)
{
	struct store_session s;
	struct store_users   users;
	struct buf	     body;

	if (session_require(app, c, &s) == -1)
		return;
	if (store_users(app->store, &users) != STORE_OK) {
		reply_error(
		    c, API_UNAVAILABLE, "The store is unavailable.", NULL);
		return;
	}
	buf_init(&body);
	buf_addc(&body, '{');
	json_key(&body, "count");
	json_int(&body, (int64_t)users.n);
	buf_addc(&body, ',');
	users_json(&body, &users, loop_wall_ms());
	buf_addc(&body, '}');
	reply_json(c, &body, NULL);
	buf_free(&body);
	store_users_free(&users);
}
