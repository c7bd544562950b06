/*
 * store: SQLite behind the verbs of store.h.
 *
 * One connection per process, used by the process's one thread; its
 * statements are prepared once and reset after every use, so no read
 * transaction outlives a call. Writes take the write lock up front (BEGIN
 * IMMEDIATE) and wait for it at most busy_timeout: past that, and on a
 * full disk or an I/O error, the verb says STORE_UNAVAILABLE and nothing
 * has changed.
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "metrics.h"
#include "nick.h"
#include "store.h"
#include "xmalloc.h"

/* The schema files of sql/, in order (schema_sql.c, made by make). */
extern const char *const schema_sql[];
extern const int	 schema_versions;

#define EVENT_COLUMNS \
	"id, ts, type, room, sender, recipient, text, " \
	"image_id, online, sender_session, recipient_session"

/*
 * docs/api.md's "who sees what" (the same rule as event_visible), as the ids
 * of the first (or last) LIM events of each kind a caller may see in the
 * id range RANGE: the room's messages and images, joins and leaves,
 * private events sent, private events received. Each comes from its own
 * index in id order and stops at LIM, so a read costs the rows it
 * returns, not the rows it passes over (sql/004-visibility-indexes.sql).
 */
#define VISIBLE_IDS(range, room, sid, order, lim) \
	"SELECT id FROM (SELECT id FROM events INDEXED BY events_room" \
	" WHERE room = " room " AND " range " AND recipient IS NULL" \
	" AND type IN ('message', 'image') ORDER BY id " order " LIMIT " lim \
	")" \
	" UNION ALL SELECT id FROM (SELECT id FROM events" \
	" INDEXED BY events_presence WHERE type IN ('join', 'leave')" \
	" AND " range " ORDER BY id " order " LIMIT " lim ")" \
	" UNION ALL SELECT id FROM (SELECT id FROM events" \
	" INDEXED BY events_private_sent WHERE sender_session = " sid \
	" AND " sid " <> 0 AND recipient IS NOT NULL AND " range \
	" ORDER BY id " order " LIMIT " lim ")" \
	" UNION ALL SELECT id FROM (SELECT id FROM events" \
	" INDEXED BY events_private_received WHERE recipient_session = " sid \
	" AND " sid " <> 0 AND recipient IS NOT NULL AND " range \
	" ORDER BY id " order " LIMIT " lim ")"

enum stmt_id {
	S_BEGIN,
	S_BEGIN_READ,
	S_COMMIT,
	S_ROLLBACK,
	S_DATA_VERSION,
	S_MAX_ID,
	S_LIVE_COUNT,
	S_NICK_LIVE,
	S_SESSION_INSERT,
	S_EVENT_INSERT,
	S_SESSION_FIND,
	S_SESSION_LIVE,
	S_SESSION_TOUCH,
	S_SESSION_END,
	S_SESSION_NICK,
	S_IDLE_LIST,
	S_CLIENT_ID,
	S_RATE,
	S_RECIPIENT,
	S_USERS,
	S_POLL,
	S_HISTORY,
	S_AFTER,
	S_IMAGE_INSERT,
	S_IMAGE_GET,
	S_IMAGE_USED,
	S_IMAGE_STORE,
	S_SESSIONS_LIVE,
	S_RETAIN_ANY,
	S_RETAIN_EVENTS,
	S_RETAIN_IMAGE,
	S_RETAIN_EVENT,
	S_RETAIN_SESSIONS,
	S_INDEX_PENDING,
	S_INDEX_BOUND,
	S_INDEX_ROWS,
	S_INDEX_MARK,
	S_SEARCH_IDS,
	S_SEARCH_ROW,
	S_COUNT
};

static const char *const stmt_sql[S_COUNT] = {
	[S_BEGIN] = "BEGIN IMMEDIATE",
	[S_BEGIN_READ] = "BEGIN",
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",
	[S_DATA_VERSION] = "PRAGMA data_version",
	[S_MAX_ID] = "SELECT coalesce(max(id), 0) FROM events",
	[S_LIVE_COUNT] = "SELECT count(*) FROM sessions WHERE ended_ms IS NULL",
	[S_NICK_LIVE] = "SELECT 1 FROM sessions WHERE nick_skeleton = ?1"
			" AND ended_ms IS NULL UNION ALL SELECT 1 FROM sessions"
			" WHERE nick_skeleton_caps = ?2 AND ended_ms IS NULL",
	[S_SESSION_INSERT] =
	    "INSERT INTO sessions (nick, nick_key, token_hash, csrf,"
	    " created_ms, last_seen_ms, nick_skeleton, nick_skeleton_caps)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6, ?7)",
	[S_EVENT_INSERT] =
	    "INSERT INTO events (ts, type, room, sender, recipient, text,"
	    " online, sender_session, recipient_session, client_id, image_id)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
	[S_SESSION_FIND] =
	    "SELECT id, nick, csrf, created_ms, last_seen_ms FROM sessions"
	    " WHERE token_hash = ?1 AND ended_ms IS NULL",
	[S_SESSION_LIVE] =
	    "SELECT 1 FROM sessions WHERE id = ?1 AND ended_ms IS NULL",
	[S_SESSION_TOUCH] =
	    "UPDATE sessions SET last_seen_ms = ?2"
	    " WHERE id = ?1 AND ended_ms IS NULL AND last_seen_ms < ?2",
	[S_SESSION_END] = "UPDATE sessions SET ended_ms = ?2, end_reason = ?3"
			  " WHERE id = ?1 AND ended_ms IS NULL",
	[S_SESSION_NICK] = "SELECT nick FROM sessions WHERE id = ?1",
	[S_IDLE_LIST] =
	    "SELECT id FROM sessions"
	    " WHERE ended_ms IS NULL AND last_seen_ms < ?1 LIMIT 100",
	[S_CLIENT_ID] =
	    "SELECT id, image_id FROM events WHERE sender_session = ?1"
	    " AND client_id = ?2",
	/*
	 * (The type NOT IN term is the WHERE of the partial index
	 * events_sends, sql/009, so that SQLite uses it.)
	 */
	[S_RATE] = "SELECT ts FROM events WHERE sender_session = ?1"
		   " AND type NOT IN ('join', 'leave') AND ts > ?2"
		   " ORDER BY ts DESC LIMIT 1 OFFSET ?3",
	/* (The nick as written first, then as it looks in lower case.) */
	[S_RECIPIENT] = "SELECT id, nick FROM sessions WHERE ended_ms IS NULL"
			" AND (nick_skeleton = ?1 OR nick_skeleton_caps = ?2)"
			" ORDER BY nick = ?3 DESC, nick_skeleton = ?1 DESC"
			" LIMIT 1",
	[S_USERS] = "SELECT nick, created_ms, last_seen_ms FROM sessions"
		    " WHERE ended_ms IS NULL ORDER BY nick_key",
	[S_POLL] =
	    "SELECT " EVENT_COLUMNS
	    " FROM events WHERE id IN (" VISIBLE_IDS("id > ?1 AND id <= ?2",
		"?3", "?4", "", "?5") ") ORDER BY id LIMIT ?5",
	[S_HISTORY] = "SELECT " EVENT_COLUMNS
		      " FROM events WHERE id IN (" VISIBLE_IDS("id < ?1", "?2",
			  "?3", "DESC", "?4") ") ORDER BY id DESC LIMIT ?4",
	[S_AFTER] = "SELECT " EVENT_COLUMNS " FROM events"
		    " WHERE id > ?1 ORDER BY id LIMIT ?2",
	[S_IMAGE_INSERT] = "INSERT INTO images (type, size, data, created_ms)"
			   " VALUES (?1, ?2, ?3, ?4)",
	[S_IMAGE_GET] = "SELECT i.type, i.data, e.recipient IS NOT NULL,"
			" e.sender_session, e.recipient_session"
			" FROM images i JOIN events e ON e.image_id = i.id"
			" AND e.type = 'image' WHERE i.id = ?1",
	/* (The type NOT IN term lets SQLite use events_sends, as S_RATE.) */
	[S_IMAGE_USED] = "SELECT e.ts, i.size FROM events e"
			 " JOIN images i ON i.id = e.image_id"
			 " WHERE e.sender_session = ?1"
			 " AND e.type NOT IN ('join', 'leave')"
			 " AND e.type = 'image' AND e.ts > ?2 ORDER BY e.ts",
	[S_IMAGE_STORE] = "SELECT bytes FROM image_store WHERE id = 1",
	/* (Counted in the partial index sessions_live_seen.) */
	[S_SESSIONS_LIVE] = "SELECT count(*) FROM sessions"
			    " WHERE ended_ms IS NULL",
	/*
	 * Retention (sql/007: events_ts, sessions_ended). The newest event
	 * is never deleted, so that max(id), the cursor polls are given,
	 * never goes back (ids are never reused: AUTOINCREMENT, sql/001).
	 */
	[S_RETAIN_ANY] =
	    "SELECT EXISTS (SELECT 1 FROM events WHERE ts < ?1"
	    " AND id < (SELECT max(id) FROM events))"
	    " OR EXISTS (SELECT 1 FROM sessions WHERE ended_ms < ?1)",
	[S_RETAIN_EVENTS] = "SELECT e.id, e.image_id, coalesce(i.size, 0)"
			    " FROM events e LEFT JOIN images i"
			    " ON i.id = e.image_id WHERE e.ts < ?1"
			    " AND e.id < (SELECT max(id) FROM events)"
			    " ORDER BY e.ts, e.id LIMIT ?2",
	/* (An image another event still shows stays.) */
	[S_RETAIN_IMAGE] = "DELETE FROM images WHERE id = ?1 AND NOT EXISTS"
			   " (SELECT 1 FROM events WHERE image_id = ?1"
			   " AND id <> ?2)",
	[S_RETAIN_EVENT] = "DELETE FROM events WHERE id = ?1",
	[S_RETAIN_SESSIONS] =
	    "DELETE FROM sessions WHERE id IN (SELECT id FROM sessions"
	    " WHERE ended_ms < ?1 LIMIT ?2)",
	/*
	 * The sweep of sql/008: are there events above the mark; the id
	 * and count of the next ?1 of them; their words into the index; the
	 * new mark.
	 */
	[S_INDEX_PENDING] = "SELECT coalesce((SELECT max(id) FROM events)"
			    " > (SELECT hi FROM search_indexed), 0)",
	[S_INDEX_BOUND] = "SELECT max(id), count(*) FROM (SELECT id FROM"
			  " events WHERE id > (SELECT hi FROM search_indexed)"
			  " ORDER BY id LIMIT ?1)",
	[S_INDEX_ROWS] = "INSERT INTO events_fts(rowid, text) SELECT id, text"
			 " FROM events WHERE id > (SELECT hi FROM"
			 " search_indexed) AND id <= ?1"
			 " AND type IN ('message', 'private')",
	[S_INDEX_MARK] = "UPDATE search_indexed SET hi = ?1",
	/*
	 * Search (sql/007: events_fts): the matches, newest first, then
	 * each one's event if the caller may see it, by the rule of
	 * VISIBLE_IDS (joins and leaves are not in the index).
	 */
	[S_SEARCH_IDS] =
	    "SELECT rowid FROM events_fts WHERE events_fts MATCH ?1"
	    " AND rowid < ?2 ORDER BY rowid DESC LIMIT ?3",
	[S_SEARCH_ROW] =
	    "SELECT " EVENT_COLUMNS " FROM events WHERE id = ?1"
	    " AND ((recipient IS NULL AND room = ?2"
	    " AND type IN ('message', 'image'))"
	    " OR (recipient IS NOT NULL AND ?3 <> 0"
	    " AND (sender_session = ?3 OR recipient_session = ?3)))",
};

struct store {
	sqlite3	     *db;
	sqlite3_stmt *stmt[S_COUNT];
	uint64_t      sessions_ended; /* by this connection */
};

/* Is this SQLite result a passing condition of the store (503)? */
static enum store_result
store_failed(struct store *st, int rc, const char *what)
{
	log_warn("store: %s: %s", what, sqlite3_errmsg(st->db));
	metrics_store_error();
	(void)rc;
	return STORE_UNAVAILABLE;
}

/* The statement id, reset and with its bindings cleared. */
static sqlite3_stmt *
stmt(struct store *st, enum stmt_id id)
{
	sqlite3_stmt *s = st->stmt[id];

	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return s;
}

/* Run a statement that returns no rows (or whose rows do not matter). */
static int
exec_stmt(struct store *st, enum stmt_id id)
{
	sqlite3_stmt *s = stmt(st, id);
	int	      rc;

	rc = sqlite3_step(s);
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? SQLITE_DONE : rc;
}

/* Run a one-integer query; -1 on error. */
static int64_t
query_int(struct store *st, enum stmt_id id)
{
	sqlite3_stmt *s = stmt(st, id);
	int64_t	      v = -1;

	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return v;
}

/* End a read transaction; should COMMIT fail, never leave it open. */
static void
end_read(struct store *st)
{
	if (exec_stmt(st, S_COMMIT) != SQLITE_DONE)
		exec_stmt(st, S_ROLLBACK);
}

static enum store_result
begin(struct store *st)
{
	int rc;

	rc = exec_stmt(st, S_BEGIN);
	if (rc != SQLITE_DONE)
		return store_failed(st, rc, "begin");
	return STORE_OK;
}

static enum store_result
commit(struct store *st)
{
	int rc;

	rc = exec_stmt(st, S_COMMIT);
	if (rc != SQLITE_DONE) {
		store_failed(st, rc, "commit");
		exec_stmt(st, S_ROLLBACK);
		return STORE_UNAVAILABLE;
	}
	return STORE_OK;
}

/* Undo the open transaction and pass on why. */
static enum store_result
rollback(struct store *st, enum store_result why)
{
	exec_stmt(st, S_ROLLBACK);
	return why;
}

/*
 * chatd_nick_skeleton(nick) and chatd_nick_skeleton_caps(nick), for the
 * schema (sql/006-nick-skeleton.sql): a look-alike key of nick (nick.h),
 * or NULL for what is no nick. The user data says which key.
 */
static void
sql_nick_key(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct nick_keys k;
	const char	*nick;
	int		 caps = sqlite3_user_data(ctx) != NULL;
	struct buf	*key;

	nick = (const char *)sqlite3_value_text(argv[0]);
	if (nick == NULL) {
		sqlite3_result_null(ctx);
		return;
	}
	nick_keys_init(&k);
	key = caps ? &k.skeleton_caps : &k.skeleton;
	if (nick_keys(nick, (size_t)sqlite3_value_bytes(argv[0]), &k) == 0)
		sqlite3_result_text(
		    ctx, key->data, (int)key->len, SQLITE_TRANSIENT);
	else
		sqlite3_result_null(ctx);
	nick_keys_free(&k);
}

/* Register the functions the schema calls on st's connection. */
static int
store_functions(struct store *st)
{
	static int caps = 1;
	const int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;

	if (sqlite3_create_function(st->db, "chatd_nick_skeleton", 1, flags,
		NULL, sql_nick_key, NULL, NULL) != SQLITE_OK ||
	    sqlite3_create_function(st->db, "chatd_nick_skeleton_caps", 1,
		flags, &caps, sql_nick_key, NULL, NULL) != SQLITE_OK) {
		log_error("store: functions: %s", sqlite3_errmsg(st->db));
		return -1;
	}
	return 0;
}

/* Bring the schema up to date: apply the sql/ files it has not had. */
static int
store_migrate(struct store *st)
{
	sqlite3_stmt *s;
	char	     *err = NULL, pragma[64];
	int	      version = 0, v;

	if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, &err) != 0)
		goto fail;
	if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL) !=
	    SQLITE_OK)
		goto fail;
	if (sqlite3_step(s) == SQLITE_ROW)
		version = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	if (version > schema_versions) {
		log_error("store: the database has schema version %d, newer "
			  "than this chatd knows (%d)",
		    version, schema_versions);
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	for (v = version; v < schema_versions; v++) {
		log_info("store: applying schema version %d", v + 1);
		if (sqlite3_exec(st->db, schema_sql[v], NULL, NULL, &err) != 0)
			goto fail;
		snprintf(
		    pragma, sizeof pragma, "PRAGMA user_version = %d", v + 1);
		if (sqlite3_exec(st->db, pragma, NULL, NULL, &err) != 0)
			goto fail;
	}
	if (sqlite3_exec(st->db, "COMMIT", NULL, NULL, &err) != 0)
		goto fail;
	return 0;
fail:
	log_error("store: schema: %s", err ? err : sqlite3_errmsg(st->db));
	sqlite3_free(err);
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

/*
 * Before the library's first use: a process of chatd has one thread, so
 * SQLite needs no mutexes (about a hundred lock and unlock pairs per
 * send), and no count of its memory in use (a locked total per
 * allocation). Later calls are refused by SQLite, harmlessly.
 */
static void
store_library(void)
{
	static int done;

	if (done)
		return;
	done = 1;
	sqlite3_config(SQLITE_CONFIG_SINGLETHREAD);
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

/*
 * The schema version in a WAL that holds commits not yet in the file
 * (a chatd that was killed), read through a read-only connection; -1 if
 * it cannot be read.
 */
static long
wal_user_version(const char *path)
{
	sqlite3	     *db = NULL;
	sqlite3_stmt *s;
	long	      v = -1;

	store_library();
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) ==
		SQLITE_OK &&
	    sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL) ==
		SQLITE_OK) {
		if (sqlite3_step(s) == SQLITE_ROW)
			v = sqlite3_column_int(s, 0);
		sqlite3_finalize(s);
	}
	sqlite3_close(db);
	return v;
}

/*
 * Check, writing nothing, that the database at path may be opened: absent
 * (it will be made), or an SQLite file whose schema is no newer than this
 * chatd's. The version is read from the file's header (offset 60), or
 * from its WAL if that holds commits. 0, or -1 after logging why.
 */
int
store_check(const char *path)
{
	unsigned char head[100];
	char	      wal[4096];
	struct stat   st;
	ssize_t	      n;
	long	      version;
	int	      fd;

	if (stat(path, &st) == -1) {
		if (errno == ENOENT)
			return 0;
		log_error("%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		log_error("%s: not a regular file: refused", path);
		return -1;
	}
	if (st.st_size == 0)
		return 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		log_error("%s: %s", path, strerror(errno));
		return -1;
	}
	n = read(fd, head, sizeof head);
	close(fd);
	if (n != (ssize_t)sizeof head ||
	    memcmp(head, "SQLite format 3", 16) != 0) {
		log_error("%s: not an SQLite database: refused", path);
		return -1;
	}
	version =
	    (long)head[60] << 24 | head[61] << 16 | head[62] << 8 | head[63];
	snprintf(wal, sizeof wal, "%s-wal", path);
	if (stat(wal, &st) == 0 && st.st_size > 0 &&
	    (version = wal_user_version(path)) == -1) {
		log_error("%s: cannot read its schema version", path);
		return -1;
	}
	if (version > schema_versions) {
		log_error("%s: schema version %ld is newer than this chatd "
			  "knows (%d): refused, the file left as it is",
		    path, version, schema_versions);
		return -1;
	}
	return 0;
}

/*
 * Open (creating if needed) the database at path in WAL mode, apply the
 * schema, prepare the statements. NULL after logging why.
 */
struct store *
store_open(const char *path, int sync_full, int busy_timeout_ms)
{
	struct store *st;
	char	     *err = NULL;
	int	      i;

	store_library();
	st = xcalloc(1, sizeof *st);
	if (sqlite3_open_v2(path, &st->db,
		SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
		    SQLITE_OPEN_NOMUTEX,
		NULL) != SQLITE_OK) {
		log_error("store: cannot open %s: %s", path,
		    st->db ? sqlite3_errmsg(st->db) : "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(st->db, busy_timeout_ms);
	sqlite3_extended_result_codes(st->db, 0);
	if (sqlite3_exec(st->db, "PRAGMA journal_mode = WAL", NULL, NULL,
		&err) != SQLITE_OK ||
	    sqlite3_exec(st->db,
		sync_full ? "PRAGMA synchronous = FULL" :
			    "PRAGMA synchronous = NORMAL",
		NULL, NULL, &err) != SQLITE_OK) {
		log_error("store: %s: %s", path, err);
		sqlite3_free(err);
		goto fail;
	}
	if (store_functions(st) == -1 || store_migrate(st) == -1)
		goto fail;
	for (i = 0; i < S_COUNT; i++) {
		if (sqlite3_prepare_v3(st->db, stmt_sql[i], -1,
			SQLITE_PREPARE_PERSISTENT, &st->stmt[i],
			NULL) != SQLITE_OK) {
			log_error("store: preparing \"%s\": %s", stmt_sql[i],
			    sqlite3_errmsg(st->db));
			goto fail;
		}
	}
	return st;
fail:
	store_close(st);
	return NULL;
}

void
store_close(struct store *st)
{
	int i;

	if (st == NULL)
		return;
	for (i = 0; i < S_COUNT; i++)
		sqlite3_finalize(st->stmt[i]);
	sqlite3_close(st->db);
	free(st);
}

/*
 * How many sessions this connection has ended (logout, idle timeout):
 * what was read of sessions before it last moved may be stale.
 */
uint64_t
store_sessions_ended(const struct store *st)
{
	return st->sessions_ended;
}

/* Changes when another connection commits (-1 on error). */
int64_t
store_data_version(struct store *st)
{
	return query_int(st, S_DATA_VERSION);
}

/* The newest event id, 0 for an empty log, -1 on error. */
int64_t
store_max_id(struct store *st)
{
	return query_int(st, S_MAX_ID);
}

/* Insert a join or leave event for session sid, inside a transaction. */
static int
insert_presence(struct store *st, const char *type, const char *nick,
    const char *text, int64_t sid, int64_t now)
{
	sqlite3_stmt *s;
	int64_t	      online;
	int	      rc;

	online = query_int(st, S_LIVE_COUNT);
	if (online < 0)
		return SQLITE_ERROR;
	s = stmt(st, S_EVENT_INSERT);
	sqlite3_bind_int64(s, 1, now);
	sqlite3_bind_text(s, 2, type, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, nick, -1, SQLITE_STATIC);
	if (text != NULL)
		sqlite3_bind_text(s, 6, text, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 7, online);
	sqlite3_bind_int64(s, 8, sid);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	return rc;
}

static int read_users(struct store *, struct store_users *);

/*
 * Start a session for nick (with its folded form and look-alike keys, the
 * token's hash and the CSRF token given) and write its join. Sets *sid and
 * *cursor, the newest id before the join, and *users, the live sessions with
 * the new one (read in the same transaction, so that a login that cannot answer
 * them changes nothing; free with store_users_free). STORE_CONFLICT if a live
 * session has either key.
 */
enum store_result
store_login(struct store *st, const struct store_nick *nick,
    const char *token_hash, const char *csrf, int64_t now, int64_t *sid,
    int64_t *cursor, struct store_users *users)
{
	sqlite3_stmt	 *s;
	enum store_result r;
	int		  rc;

	if ((r = begin(st)) != STORE_OK)
		return r;
	s = stmt(st, S_NICK_LIVE);
	sqlite3_bind_text(s, 1, nick->skeleton, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, nick->skeleton_caps, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return rollback(st, STORE_CONFLICT);
	if (rc != SQLITE_DONE)
		return rollback(st, store_failed(st, rc, "login"));
	if ((*cursor = store_max_id(st)) < 0)
		return rollback(st, store_failed(st, SQLITE_ERROR, "login"));
	s = stmt(st, S_SESSION_INSERT);
	sqlite3_bind_text(s, 1, nick->nick, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, nick->fold, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, token_hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, csrf, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, now);
	sqlite3_bind_text(s, 6, nick->skeleton, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 7, nick->skeleton_caps, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return rollback(st, store_failed(st, rc, "login"));
	*sid = sqlite3_last_insert_rowid(st->db);
	rc = insert_presence(st, "join", nick->nick, NULL, *sid, now);
	if (rc != SQLITE_DONE)
		return rollback(st, store_failed(st, rc, "join"));
	if ((rc = read_users(st, users)) != SQLITE_DONE)
		return rollback(st, store_failed(st, rc, "users"));
	if ((r = commit(st)) != STORE_OK)
		store_users_free(users);
	return r;
}

/* The live session whose token hashes to token_hash. */
enum store_result
store_session_find(
    struct store *st, const char *token_hash, struct store_session *out)
{
	sqlite3_stmt	 *s;
	enum store_result r = STORE_NOT_FOUND;
	int		  rc;

	s = stmt(st, S_SESSION_FIND);
	sqlite3_bind_text(s, 1, token_hash, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		out->id = sqlite3_column_int64(s, 0);
		snprintf(out->nick, sizeof out->nick, "%s",
		    (const char *)sqlite3_column_text(s, 1));
		snprintf(out->csrf, sizeof out->csrf, "%s",
		    (const char *)sqlite3_column_text(s, 2));
		out->created_ms = sqlite3_column_int64(s, 3);
		out->last_seen_ms = sqlite3_column_int64(s, 4);
		r = STORE_OK;
	} else if (rc != SQLITE_DONE)
		r = store_failed(st, rc, "session");
	sqlite3_reset(s);
	return r;
}

/*
 * Record that the n sessions of sids made a request at now, in one
 * transaction: polls refresh their sessions without a commit each.
 */
enum store_result
store_touch_batch(struct store *st, const int64_t *sids, size_t n, int64_t now)
{
	sqlite3_stmt	 *s;
	enum store_result r;
	size_t		  i;
	int		  rc;

	if ((r = begin(st)) != STORE_OK)
		return r;
	for (i = 0; i < n; i++) {
		s = stmt(st, S_SESSION_TOUCH);
		sqlite3_bind_int64(s, 1, sids[i]);
		sqlite3_bind_int64(s, 2, now);
		rc = sqlite3_step(s);
		sqlite3_reset(s);
		if (rc != SQLITE_DONE)
			return rollback(st, store_failed(st, rc, "touch"));
	}
	return commit(st);
}

/*
 * End session sid for reason ("logout", "timeout") and write its leave,
 * unless it has ended already (then nothing is written). Inside a
 * transaction.
 */
static int
end_session(struct store *st, int64_t sid, const char *reason, int64_t now)
{
	sqlite3_stmt *s;
	char	     *nick;
	int	      rc;

	s = stmt(st, S_SESSION_END);
	sqlite3_bind_int64(s, 1, sid);
	sqlite3_bind_int64(s, 2, now);
	sqlite3_bind_text(s, 3, reason, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE || sqlite3_changes(st->db) == 0)
		return rc;
	/* Counted before the commit: a rollback only costs a lookup. */
	st->sessions_ended++;
	s = stmt(st, S_SESSION_NICK);
	sqlite3_bind_int64(s, 1, sid);
	if ((rc = sqlite3_step(s)) != SQLITE_ROW) {
		sqlite3_reset(s);
		return rc;
	}
	nick = xstrdup((const char *)sqlite3_column_text(s, 0));
	sqlite3_reset(s);
	rc = insert_presence(st, "leave", nick, reason, sid, now);
	free(nick);
	return rc;
}

/* End session sid by logout, writing its leave. */
enum store_result
store_logout(struct store *st, int64_t sid, int64_t now)
{
	enum store_result r;
	int		  rc;

	if ((r = begin(st)) != STORE_OK)
		return r;
	rc = end_session(st, sid, "logout", now);
	if (rc != SQLITE_DONE)
		return rollback(st, store_failed(st, rc, "logout"));
	return commit(st);
}

/*
 * End session sid, whose page went away, with a "timeout" leave, unless
 * it has ended already; *ended counts the sessions this ended (0 or 1).
 */
enum store_result
store_end_away(struct store *st, int64_t sid, int64_t now, int *ended)
{
	enum store_result r;
	uint64_t	  before = st->sessions_ended;
	int		  rc;

	if ((r = begin(st)) != STORE_OK)
		return r;
	rc = end_session(st, sid, "timeout", now);
	if (rc != SQLITE_DONE)
		return rollback(st, store_failed(st, rc, "away"));
	if ((r = commit(st)) == STORE_OK)
		*ended += (int)(st->sessions_ended - before);
	return r;
}

/*
 * End the sessions idle since before now - idle_ms, each with one leave
 * "timeout". Safe to run from every process at once: a session ends in
 * the transaction that writes its leave, so it is ended exactly once.
 */
enum store_result
store_reap_idle(struct store *st, int64_t now, int64_t idle_ms, int *ended)
{
	sqlite3_stmt	 *s;
	enum store_result r;
	int64_t		  ids[100];
	int		  n = 0, i, rc;

	*ended = 0;
	/* Look first without the write lock: usually nobody is idle. */
	s = stmt(st, S_IDLE_LIST);
	sqlite3_bind_int64(s, 1, now - idle_ms);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc == SQLITE_DONE)
		return STORE_OK;
	if (rc != SQLITE_ROW)
		return store_failed(st, rc, "idle");
	if ((r = begin(st)) != STORE_OK)
		return r;
	s = stmt(st, S_IDLE_LIST);
	sqlite3_bind_int64(s, 1, now - idle_ms);
	while (n < 100 && (rc = sqlite3_step(s)) == SQLITE_ROW)
		ids[n++] = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	for (i = 0; i < n; i++) {
		rc = end_session(st, ids[i], "timeout", now);
		if (rc != SQLITE_DONE)
			return rollback(st, store_failed(st, rc, "timeout"));
	}
	*ended = n;
	return commit(st);
}

/* The id of the session's earlier send with this client_id, or 0. */
static int64_t
find_client_id(struct store *st, struct store_send *m)
{
	sqlite3_stmt *s;
	int64_t	      id = 0;

	if (m->client_id == NULL)
		return 0;
	s = stmt(st, S_CLIENT_ID);
	sqlite3_bind_int64(s, 1, m->session);
	sqlite3_bind_text(
	    s, 2, m->client_id, (int)m->client_id_len, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW) {
		id = sqlite3_column_int64(s, 0);
		m->image_id = sqlite3_column_int64(s, 1);
	}
	sqlite3_reset(s);
	return id;
}

/*
 * If the session has sent rate_count times within the window, the ms
 * until the oldest of those leaves it; else 0. The covering index
 * events_sends makes this a walk over the window's sends only (at most
 * rate_count of them), however long the session's history.
 */
static int64_t
rate_wait(struct store *st, const struct store_send *m)
{
	sqlite3_stmt *s;
	int64_t	      wait = 0;

	s = stmt(st, S_RATE);
	sqlite3_bind_int64(s, 1, m->session);
	sqlite3_bind_int64(s, 2, m->now_ms - m->rate_window_ms);
	sqlite3_bind_int(s, 3, m->rate_count - 1);
	if (sqlite3_step(s) == SQLITE_ROW) {
		wait =
		    sqlite3_column_int64(s, 0) + m->rate_window_ms - m->now_ms;
		if (wait < 1)
			wait = 1;
	}
	sqlite3_reset(s);
	return wait;
}

/*
 * If storing m's image would take its session past image_quota bytes
 * within the window, the ms until enough of its images leave the window;
 * else 0; -1 if the store cannot say. It walks the session's sends in
 * the window (events_sends), at most rate_count per rate window.
 */
static int64_t
image_wait(struct store *st, const struct store_send *m)
{
	sqlite3_stmt *s;
	int64_t	      used = 0, wait = 0;
	int	      rc;

	s = stmt(st, S_IMAGE_USED);
	sqlite3_bind_int64(s, 1, m->session);
	sqlite3_bind_int64(s, 2, m->now_ms - m->image_window_ms);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		used += sqlite3_column_int64(s, 1);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return -1;
	if (used + (int64_t)m->image_len <= m->image_quota)
		return 0;
	/* Oldest first: when has enough left the window? */
	while (sqlite3_step(s) == SQLITE_ROW) {
		used -= sqlite3_column_int64(s, 1);
		wait =
		    sqlite3_column_int64(s, 0) + m->image_window_ms - m->now_ms;
		if (used + (int64_t)m->image_len <= m->image_quota)
			break;
	}
	sqlite3_reset(s);
	return wait < 1 ? 1 : wait;
}

/*
 * May m's image be stored? STORE_FULL if it would take all the images
 * past image_store_max bytes, STORE_IMAGE_QUOTA (retry_ms set) if its
 * session past its quota, STORE_UNAVAILABLE if the store cannot say
 * (the image_store row of sql/005 is gone, or a read failed), else
 * STORE_OK.
 */
static enum store_result
image_refusal(struct store *st, struct store_send *m)
{
	sqlite3_stmt *s;
	int64_t	      bytes = -1;

	if (m->image_store_max > 0) {
		s = stmt(st, S_IMAGE_STORE);
		if (sqlite3_step(s) == SQLITE_ROW)
			bytes = sqlite3_column_int64(s, 0);
		sqlite3_reset(s);
		if (bytes < 0) {
			log_warn(
			    "store: no image total (image_store): "
			    "uploads refused; see sql/005-image-store.sql");
			return STORE_UNAVAILABLE;
		}
		if (bytes + (int64_t)m->image_len > m->image_store_max)
			return STORE_FULL;
	}
	if ((m->retry_ms = image_wait(st, m)) < 0)
		return STORE_UNAVAILABLE;
	if (m->retry_ms > 0)
		return STORE_IMAGE_QUOTA;
	return STORE_OK;
}

/* The live session that m's recipient names: its id and nick. */
static int64_t
find_recipient(struct store *st, const struct store_send *m, char **nick)
{
	sqlite3_stmt *s;
	int64_t	      id = 0;

	s = stmt(st, S_RECIPIENT);
	sqlite3_bind_text(s, 1, m->to_skeleton, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, m->to_skeleton_caps, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, m->to, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW) {
		id = sqlite3_column_int64(s, 0);
		*nick = xstrdup((const char *)sqlite3_column_text(s, 1));
	}
	sqlite3_reset(s);
	return id;
}

/* Store the image of m; its id into m->image_id. */
static int
insert_image(struct store *st, struct store_send *m)
{
	sqlite3_stmt *s;
	int	      rc;

	s = stmt(st, S_IMAGE_INSERT);
	sqlite3_bind_text(s, 1, m->image_type, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)m->image_len);
	sqlite3_bind_blob(s, 3, m->image, (int)m->image_len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, m->now_ms);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc == SQLITE_DONE)
		m->image_id = sqlite3_last_insert_rowid(st->db);
	return rc;
}

/* The event of m: a message, a private message, or an image (either). */
static int
insert_message(struct store *st, const struct store_send *m, const char *to,
    int64_t to_sid)
{
	sqlite3_stmt *s;
	int	      rc;

	s = stmt(st, S_EVENT_INSERT);
	sqlite3_bind_int64(s, 1, m->now_ms);
	sqlite3_bind_text(s, 2,
	    m->image ? "image" :
		to   ? "private" :
		       "message",
	    -1, SQLITE_STATIC);
	if (to == NULL)
		sqlite3_bind_text(s, 3, m->room, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, m->from, -1, SQLITE_STATIC);
	if (to != NULL) {
		sqlite3_bind_text(s, 5, to, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 9, to_sid);
	}
	if (m->text != NULL)
		sqlite3_bind_text(
		    s, 6, m->text, (int)m->text_len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 8, m->session);
	if (m->client_id != NULL)
		sqlite3_bind_text(
		    s, 10, m->client_id, (int)m->client_id_len, SQLITE_STATIC);
	if (m->image != NULL)
		sqlite3_bind_int64(s, 11, m->image_id);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	return rc;
}

/*
 * Write one send inside the batch's transaction: m->result says what
 * became of it. A send whose client_id was seen before writes nothing and
 * gives the first id. Returns the SQLite code of a failure that spoils the
 * whole transaction, else SQLITE_DONE.
 */
static int
send_one(struct store *st, struct store_send *m)
{
	sqlite3_stmt *s;
	char	     *to = NULL;
	int64_t	      to_sid = 0;
	int	      rc;

	/*
	 * The session may come from the session cache, which can be a few
	 * milliseconds behind another process's logout: here, under the
	 * write lock, is where that is settled.
	 */
	s = stmt(st, S_SESSION_LIVE);
	sqlite3_bind_int64(s, 1, m->session);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc == SQLITE_DONE) {
		m->result = STORE_ENDED;
		return SQLITE_DONE;
	}
	if (rc != SQLITE_ROW)
		return rc;
	if ((m->id = find_client_id(st, m)) > 0) {
		m->result = STORE_OK;
		return SQLITE_DONE;
	}
	if ((m->retry_ms = rate_wait(st, m)) > 0) {
		m->result = STORE_LIMITED;
		return SQLITE_DONE;
	}
	if (m->to != NULL && (to_sid = find_recipient(st, m, &to)) == 0) {
		m->result = STORE_NOT_FOUND;
		return SQLITE_DONE;
	}
	if (m->image != NULL &&
	    (m->result = image_refusal(st, m)) != STORE_OK) {
		free(to);
		return SQLITE_DONE;
	}
	if (m->image != NULL && (rc = insert_image(st, m)) != SQLITE_DONE) {
		free(to);
		return rc;
	}
	rc = insert_message(st, m, to, to_sid);
	free(to);
	if (rc != SQLITE_DONE)
		return rc;
	m->id = sqlite3_last_insert_rowid(st->db);
	m->result = STORE_OK;
	return SQLITE_DONE;
}

/*
 * Write n sends in one transaction: one commit (one fsync) for all the
 * sends that arrived together. Each gets its own result; if the
 * transaction fails, every send that would have written is UNAVAILABLE
 * and nothing is written.
 */
void
store_send_batch(struct store *st, struct store_send *const *v, size_t n)
{
	size_t	i;
	int64_t t0;
	int	rc = SQLITE_DONE, ok;

	for (i = 0; i < n; i++)
		v[i]->result = STORE_UNAVAILABLE;
	if (begin(st) != STORE_OK)
		return;
	for (i = 0; i < n && rc == SQLITE_DONE; i++)
		rc = send_one(st, v[i]);
	if (rc != SQLITE_DONE) {
		rollback(st, store_failed(st, rc, "send"));
	} else {
		t0 = metrics_clock();
		ok = commit(st) == STORE_OK;
		metrics_commit(metrics_clock() - t0);
		if (ok)
			return;
	}
	for (i = 0; i < n; i++) {
		if (v[i]->result == STORE_OK)
			v[i]->result = STORE_UNAVAILABLE;
	}
}

/*
 * Image id, if the holder of session sid may see it (as its event: a
 * room's image everyone, a private one its sender and recipient): its
 * type and a copy of its bytes into out (free out->data). NOT_FOUND
 * otherwise, whether it exists or not.
 */
enum store_result
store_image_get(
    struct store *st, int64_t id, int64_t sid, struct store_image *out)
{
	sqlite3_stmt	 *s;
	enum store_result r = STORE_NOT_FOUND;
	const char	 *type;
	int		  rc;

	memset(out, 0, sizeof *out);
	s = stmt(st, S_IMAGE_GET);
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW &&
	    (sqlite3_column_int(s, 2) == 0 ||
		sqlite3_column_int64(s, 3) == sid ||
		sqlite3_column_int64(s, 4) == sid)) {
		type = (const char *)sqlite3_column_text(s, 0);
		out->len = (size_t)sqlite3_column_bytes(s, 1);
		out->data = xmalloc(out->len ? out->len : 1);
		if (out->len > 0)
			memcpy(out->data, sqlite3_column_blob(s, 1), out->len);
		snprintf(out->type, sizeof out->type, "%s", type ? type : "");
		r = STORE_OK;
	} else if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		r = store_failed(st, rc, "image");
	sqlite3_reset(s);
	return r;
}

/* Read the live sessions, by nick, into out; the step result. */
static int
read_users(struct store *st, struct store_users *out)
{
	sqlite3_stmt *s;
	size_t	      cap = 0;
	int	      rc;

	memset(out, 0, sizeof *out);
	s = stmt(st, S_USERS);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (out->n == cap) {
			cap = cap ? cap * 2 : 16;
			out->v = xrealloc(out->v, cap * sizeof *out->v);
		}
		out->v[out->n].nick =
		    xstrdup((const char *)sqlite3_column_text(s, 0));
		out->v[out->n].since_ms = sqlite3_column_int64(s, 1);
		out->v[out->n].last_seen_ms = sqlite3_column_int64(s, 2);
		out->n++;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		store_users_free(out);
	return rc;
}

/* How many sessions are live, into *n: a read of the store. */
enum store_result
store_sessions_live(struct store *st, int64_t *n)
{
	sqlite3_stmt *s = stmt(st, S_SESSIONS_LIVE);
	int	      rc;

	rc = sqlite3_step(s);
	*n = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
	sqlite3_reset(s);
	if (rc != SQLITE_ROW)
		return store_failed(st, rc, "sessions");
	return STORE_OK;
}

/* The live sessions, by nick. Free with store_users_free. */
enum store_result
store_users(struct store *st, struct store_users *out)
{
	int rc;

	if ((rc = read_users(st, out)) != SQLITE_DONE)
		return store_failed(st, rc, "users");
	return STORE_OK;
}

void
store_users_free(struct store_users *u)
{
	size_t i;

	for (i = 0; i < u->n; i++)
		free(u->v[i].nick);
	free(u->v);
	memset(u, 0, sizeof *u);
}

static char *
column_strdup(sqlite3_stmt *s, int col)
{
	const unsigned char *t;

	t = sqlite3_column_text(s, col);
	return t ?
	    xstrndup((const char *)t, (size_t)sqlite3_column_bytes(s, col)) :
	    NULL;
}

/*
 * Read the rows of s (EVENT_COLUMNS) into out; the step result. On an
 * error out is left empty, so that a caller that fails owns nothing.
 */
static int
read_events(sqlite3_stmt *s, struct event_list *out)
{
	struct event *e;
	int	      rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		e = event_list_push(out);
		e->id = sqlite3_column_int64(s, 0);
		e->ts = sqlite3_column_int64(s, 1);
		e->type = column_strdup(s, 2);
		e->room = column_strdup(s, 3);
		e->from = column_strdup(s, 4);
		e->to = column_strdup(s, 5);
		e->text = column_strdup(s, 6);
		e->text_len = e->text ? (size_t)sqlite3_column_bytes(s, 6) : 0;
		e->image = sqlite3_column_int64(s, 7);
		if (sqlite3_column_type(s, 8) != SQLITE_NULL)
			e->online = sqlite3_column_int64(s, 8);
		e->sender_session = sqlite3_column_int64(s, 9);
		e->recipient_session = sqlite3_column_int64(s, 10);
		if (e->type == NULL)
			e->type = xstrdup("message");
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		event_list_clear(out);
	return rc;
}

/*
 * The events after since that session sid may see in room, at most limit,
 * ascending. *cursor is where the next poll starts: the last event read
 * if the limit cut the list, else the newest event of the log.
 */
enum store_result
store_poll(struct store *st, int64_t since, const char *room, int64_t sid,
    int limit, struct event_list *out, int64_t *cursor)
{
	sqlite3_stmt *s;
	int64_t	      max;
	int	      rc;

	/*
	 * One read transaction for both statements: one snapshot, and one
	 * lock and unlock of the WAL index instead of two (a poll's cost is
	 * mostly system calls). Rows up to max are all committed: no later
	 * commit goes below.
	 */
	if (exec_stmt(st, S_BEGIN_READ) != SQLITE_DONE)
		return store_failed(st, SQLITE_ERROR, "poll");
	if ((max = store_max_id(st)) < 0) {
		end_read(st);
		return store_failed(st, SQLITE_ERROR, "poll");
	}
	s = stmt(st, S_POLL);
	sqlite3_bind_int64(s, 1, since);
	sqlite3_bind_int64(s, 2, max);
	sqlite3_bind_text(s, 3, room, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, sid);
	sqlite3_bind_int(s, 5, limit);
	rc = read_events(s, out);
	end_read(st);
	if (rc != SQLITE_DONE)
		return store_failed(st, rc, "poll");
	/*
	 * A cursor beyond the log (one from another database) is brought
	 * back to its end, so that the client sees what comes next.
	 */
	if (out->n == (size_t)limit)
		*cursor = out->v[out->n - 1].id;
	else
		*cursor = max;
	return STORE_OK;
}

/* Newest first to oldest first, in place. */
static void
reverse_events(struct event_list *out)
{
	struct event tmp;
	size_t	     i;

	for (i = 0; i < out->n / 2; i++) {
		tmp = out->v[i];
		out->v[i] = out->v[out->n - 1 - i];
		out->v[out->n - 1 - i] = tmp;
	}
}

/* The newest limit events below before that a poll of room would show. */
enum store_result
store_history(struct store *st, const char *room, int64_t sid, int64_t before,
    int limit, struct event_list *out)
{
	sqlite3_stmt *s;
	int	      rc;

	s = stmt(st, S_HISTORY);
	sqlite3_bind_int64(s, 1, before);
	sqlite3_bind_text(s, 2, room, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, sid);
	sqlite3_bind_int(s, 4, limit);
	rc = read_events(s, out);
	if (rc != SQLITE_DONE)
		return store_failed(st, rc, "history");
	reverse_events(out);
	return STORE_OK;
}

/* Every event after id after, at most limit, ascending: for the waiter. */
enum store_result
store_read_after(
    struct store *st, int64_t after, int limit, struct event_list *out)
{
	sqlite3_stmt *s;
	int	      rc;

	s = stmt(st, S_AFTER);
	sqlite3_bind_int64(s, 1, after);
	sqlite3_bind_int(s, 2, limit);
	rc = read_events(s, out);
	return rc == SQLITE_DONE ? STORE_OK : store_failed(st, rc, "read");
}

/*
 * The oldest events with ts before cutoff, at most n of them and images
 * of at most STORE_RETAIN_IMAGE_BYTES (the first one whatever its size):
 * their ids and image ids into ids and images; how many, or -1.
 */
static int
retain_pick(
    struct store *st, int64_t cutoff, int n, int64_t *ids, int64_t *images)
{
	sqlite3_stmt *s;
	int64_t	      bytes = 0;
	int	      got = 0, rc = SQLITE_DONE;

	s = stmt(st, S_RETAIN_EVENTS);
	sqlite3_bind_int64(s, 1, cutoff);
	sqlite3_bind_int(s, 2, n);
	while (got < n && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		bytes += sqlite3_column_int64(s, 2);
		if (got > 0 && bytes > STORE_RETAIN_IMAGE_BYTES)
			break;
		ids[got] = sqlite3_column_int64(s, 0);
		images[got++] = sqlite3_column_int64(s, 1);
	}
	sqlite3_reset(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? got : -1;
}

/* Delete event id and its image (0 if none); the step result. */
static int
retain_event(struct store *st, int64_t id, int64_t image)
{
	sqlite3_stmt *s;
	int	      rc;

	if (image > 0) {
		s = stmt(st, S_RETAIN_IMAGE);
		sqlite3_bind_int64(s, 1, image);
		sqlite3_bind_int64(s, 2, id);
		rc = sqlite3_step(s);
		sqlite3_reset(s);
		if (rc != SQLITE_DONE)
			return rc;
	}
	s = stmt(st, S_RETAIN_EVENT);
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	return rc;
}

/*
 * --retain: in one short transaction, delete the oldest events with ts
 * before cutoff (at most limit, up to STORE_RETAIN_MAX, and never the
 * newest event of the log) with their images, and at most limit sessions
 * that ended before cutoff; the counts into *events and *sessions. Safe
 * from every process at once: each batch holds the write lock, and what
 * one batch deleted the next does not find.
 */
enum store_result
store_retain(
    struct store *st, int64_t cutoff, int limit, int *events, int *sessions)
{
	sqlite3_stmt	 *s;
	enum store_result r;
	int64_t		  ids[STORE_RETAIN_MAX], images[STORE_RETAIN_MAX];
	int		  n, i, rc, any;

	*events = *sessions = 0;
	if (limit > STORE_RETAIN_MAX)
		limit = STORE_RETAIN_MAX;
	/* Look first without the write lock: usually there is nothing. */
	s = stmt(st, S_RETAIN_ANY);
	sqlite3_bind_int64(s, 1, cutoff);
	rc = sqlite3_step(s);
	any = rc == SQLITE_ROW && sqlite3_column_int(s, 0);
	sqlite3_reset(s);
	if (rc != SQLITE_ROW)
		return store_failed(st, rc, "retain");
	if (!any)
		return STORE_OK;
	if ((r = begin(st)) != STORE_OK)
		return r;
	if ((n = retain_pick(st, cutoff, limit, ids, images)) < 0)
		return rollback(st, store_failed(st, SQLITE_ERROR, "retain"));
	for (i = 0; i < n; i++)
		if ((rc = retain_event(st, ids[i], images[i])) != SQLITE_DONE)
			return rollback(st, store_failed(st, rc, "retain"));
	s = stmt(st, S_RETAIN_SESSIONS);
	sqlite3_bind_int64(s, 1, cutoff);
	sqlite3_bind_int(s, 2, limit);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return rollback(st, store_failed(st, rc, "retain"));
	*sessions = sqlite3_changes(st->db);
	if ((r = commit(st)) != STORE_OK)
		*sessions = 0;
	else
		*events = n;
	return r;
}

/*
 * The sweep of sql/008: in one transaction, put the words of the next
 * limit events above the mark search_indexed.hi into events_fts and move
 * the mark past them. *more says whether there may be more above it.
 * Safe from every process at once: the mark is read under the write
 * lock, so no event is indexed twice.
 */
enum store_result
store_index(struct store *st, int limit, int *more)
{
	sqlite3_stmt	 *s;
	enum store_result r;
	int64_t		  bound;
	int		  n, put, rc;

	*more = 0;
	/* Look first without the write lock: usually there is nothing. */
	if ((rc = (int)query_int(st, S_INDEX_PENDING)) < 0)
		return store_failed(st, SQLITE_ERROR, "index");
	if (rc == 0)
		return STORE_OK;
	if ((r = begin(st)) != STORE_OK)
		return r;
	s = stmt(st, S_INDEX_BOUND);
	sqlite3_bind_int(s, 1, limit);
	if ((rc = sqlite3_step(s)) != SQLITE_ROW) {
		sqlite3_reset(s);
		return rollback(st, store_failed(st, rc, "index"));
	}
	bound = sqlite3_column_int64(s, 0);
	n = sqlite3_column_int(s, 1);
	sqlite3_reset(s);
	if (n == 0)
		return commit(st);
	s = stmt(st, S_INDEX_ROWS);
	sqlite3_bind_int64(s, 1, bound);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return rollback(st, store_failed(st, rc, "index"));
	/* The rows put in the index (messages, private ones), not all passed.
	 */
	put = sqlite3_changes(st->db);
	s = stmt(st, S_INDEX_MARK);
	sqlite3_bind_int64(s, 1, bound);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return rollback(st, store_failed(st, rc, "index"));
	if ((r = commit(st)) == STORE_OK) {
		*more = n == limit;
		metrics_indexed(put);
	}
	return r;
}

/*
 * Read the visible event of each match of s into out, newest first, until
 * out has limit; the step result. *more is the last match read if there
 * may be more below it (limit reached, or the scan's end), else 0.
 */
static int
search_rows(struct store *st, sqlite3_stmt *s, const char *room, int64_t sid,
    int limit, int scan, struct event_list *out, int64_t *more)
{
	sqlite3_stmt *row;
	int64_t	      id = 0;
	int	      n = 0, rc;

	*more = 0;
	rc = SQLITE_DONE;
	while ((int)out->n < limit && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		id = sqlite3_column_int64(s, 0);
		n++;
		row = stmt(st, S_SEARCH_ROW);
		sqlite3_bind_int64(row, 1, id);
		sqlite3_bind_text(row, 2, room, -1, SQLITE_STATIC);
		sqlite3_bind_int64(row, 3, sid);
		if ((rc = read_events(row, out)) != SQLITE_DONE)
			break;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return rc;
	if ((int)out->n == limit || n == scan)
		*more = id;
	return SQLITE_DONE;
}

/*
 * The newest limit events below before whose text matches the FTS5
 * expression expr (search.c makes one of a person's words) and that
 * history of room would show session sid, oldest first. At most scan
 * matches are looked at, so that a search costs at most that however
 * many matches the caller may not see: *more is then where to go on
 * (the before of the next page), 0 when there is nothing more below.
 * The events above the mark of sql/008 are indexed first (store_index),
 * so that the search sees every event written before it.
 */
enum store_result
store_search(struct store *st, const char *expr, size_t expr_len,
    const char *room, int64_t sid, int64_t before, int limit, int scan,
    struct event_list *out, int64_t *more)
{
	sqlite3_stmt	 *s;
	enum store_result r;
	int		  rc, again;

	/* Every event written before the search is in the index first. */
	do {
		if ((r = store_index(st, STORE_INDEX_BATCH, &again)) !=
		    STORE_OK)
			return r;
	} while (again);
	if (exec_stmt(st, S_BEGIN_READ) != SQLITE_DONE)
		return store_failed(st, SQLITE_ERROR, "search");
	s = stmt(st, S_SEARCH_IDS);
	sqlite3_bind_text(s, 1, expr, (int)expr_len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, before);
	sqlite3_bind_int(s, 3, scan);
	rc = search_rows(st, s, room, sid, limit, scan, out, more);
	end_read(st);
	if (rc != SQLITE_DONE) {
		event_list_clear(out);
		return store_failed(st, rc, "search");
	}
	reverse_events(out);
	return STORE_OK;
}
