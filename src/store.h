/*
 * store: the SQLite event log and sessions, behind one small interface.
 *
 * Everything durable goes through here: each verb is one transaction, and
 * the result says what happened in words the handlers map to API errors.
 * Nothing here holds a read transaction open between calls (an open
 * reader would stop WAL checkpoints), and every write is BEGIN IMMEDIATE,
 * so that several chatd processes, and the sqlite3 shell, can share one
 * database file. The SQL is plain enough for PostgreSQL, where the log may
 * move once it must outgrow one machine.
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#ifndef CHATD_STORE_H
#define CHATD_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"

enum store_result {
	STORE_OK,
	STORE_NOT_FOUND,   /* no such session / user */
	STORE_CONFLICT,	   /* the nick is taken */
	STORE_LIMITED,	   /* over the send rate */
	STORE_ENDED,	   /* the sender's session has ended */
	STORE_IMAGE_QUOTA, /* over the session's image bytes */
	STORE_FULL,	   /* the images would pass --image-store */
	STORE_UNAVAILABLE  /* locked past the timeout, disk full, I/O */
};

struct store;

/* --retain: events one batch deletes at most, and their image bytes. */
#define STORE_RETAIN_MAX 1000
#define STORE_RETAIN_IMAGE_BYTES (8 << 20)

struct store_session {
	int64_t id;
	char	nick[128];
	char	csrf[72];
	int64_t created_ms;
	int64_t last_seen_ms;
};

struct store_user {
	char   *nick;
	int64_t since_ms;
	int64_t last_seen_ms;
};

struct store_users {
	struct store_user *v;
	size_t		   n;
};

/* A nick to log in: as shown (NFC), folded, and its look-alike keys. */
struct store_nick {
	const char *nick;
	const char *fold;
	const char *skeleton;
	const char *skeleton_caps;
};

/*
 * One send of a batch: what it writes (a message, a private message, or
 * later an image) and, after store_send_batch, what became of it.
 */
struct store_send {
	int64_t	    session;
	const char *from;
	const char *room;	 /* NULL when to is set */
	const char *to;		 /* recipient nick, or NULL */
	const char *to_skeleton; /* its look-alike keys (nick.h) */
	const char *to_skeleton_caps;
	const char *text;
	size_t	    text_len;
	const char *client_id; /* NULL if none */
	size_t	    client_id_len;
	int	    rate_count;	    /* so many sends ... */
	int64_t	    rate_window_ms; /* ... per this long */
	int64_t	    now_ms;

	const void *image; /* an image send: its bytes */
	size_t	    image_len;
	const char *image_type;	     /* from validate_image */
	int64_t	    image_quota;     /* image bytes ... */
	int64_t	    image_window_ms; /* ... per this long */
	int64_t	    image_store_max; /* image bytes in all; 0: no limit */

	enum store_result result;   /* OK, LIMITED, NOT_FOUND... */
	int64_t		  id;	    /* the event's id, on OK */
	int64_t		  image_id; /* the image's id, on OK */
	int64_t		  retry_ms; /* on LIMITED and IMAGE_QUOTA */
};

struct store_image {
	char	       type[16]; /* image/png ... */
	unsigned char *data;
	size_t	       len;
};

int	      store_check(const char *);
struct store *store_open(const char *, int, int);
void	      store_close(struct store *);
int64_t	      store_data_version(struct store *);
uint64_t      store_sessions_ended(const struct store *);
int64_t	      store_max_id(struct store *);

enum store_result store_login(struct store *, const struct store_nick *,
    const char *, const char *, int64_t, int64_t *, int64_t *,
    struct store_users *);
enum store_result store_session_find(
    struct store *, const char *, struct store_session *);
enum store_result store_logout(struct store *, int64_t, int64_t);
enum store_result store_reap_idle(struct store *, int64_t, int64_t, int *);
void store_send_batch(struct store *, struct store_send *const *, size_t);
enum store_result store_touch_batch(
    struct store *, const int64_t *, size_t, int64_t);
enum store_result store_users(struct store *, struct store_users *);
enum store_result store_sessions_live(struct store *, int64_t *);
enum store_result store_image_get(
    struct store *, int64_t, int64_t, struct store_image *);
void		  store_users_free(struct store_users *);
enum store_result store_poll(struct store *, int64_t, const char *, int64_t,
    int, struct event_list *, int64_t *);
enum store_result store_history(
    struct store *, const char *, int64_t, int64_t, int, struct event_list *);
enum store_result store_read_after(
    struct store *, int64_t, int, struct event_list *);
enum store_result store_retain(struct store *, int64_t, int, int *, int *);
enum store_result store_search(struct store *, const char *, size_t,
    const char *, int64_t, int64_t, int, int, struct event_list *, int64_t *);

#endif
