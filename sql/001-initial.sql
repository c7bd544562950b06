-- chatd schema, version 1: the event log and the sessions.
--
-- chatd applies this file to a new database at start, in one transaction,
-- and then sets PRAGMA user_version = 1. Later versions are new files
-- (002-..., 003-...), applied in order to bring an older database up to
-- date; a file is never edited once released.
--
-- Made to be read with the sqlite3 shell next to a running chatd: see
-- queries.sql for ready-made questions, and the event_log view below.
--
-- Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.

-- Who is or was logged in. A live session has ended_ms NULL.
CREATE TABLE sessions (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	nick TEXT NOT NULL,		-- as the person typed it
	nick_key TEXT NOT NULL,		-- case-folded: unique among live ones
	token_hash TEXT NOT NULL UNIQUE,	-- SHA-256 of the token, hex;
						-- the token itself is never kept
	csrf TEXT NOT NULL,
	created_ms INTEGER NOT NULL,	-- Unix milliseconds
	last_seen_ms INTEGER NOT NULL,	-- last request, a few seconds coarse
	ended_ms INTEGER,
	end_reason TEXT CHECK (end_reason IN ('logout', 'timeout'))
);
CREATE UNIQUE INDEX sessions_live_nick ON sessions(nick_key)
	WHERE ended_ms IS NULL;
CREATE INDEX sessions_live_seen ON sessions(last_seen_ms)
	WHERE ended_ms IS NULL;

-- Everything that happens, in one total order: the log of docs/api.md.
-- ids only grow (AUTOINCREMENT never reuses one), and a row is never
-- changed or deleted by chatd.
CREATE TABLE events (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	ts INTEGER NOT NULL DEFAULT
		(CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)),
	type TEXT NOT NULL
		CHECK (type IN ('message', 'private', 'image', 'join', 'leave')),
	room TEXT,			-- message and public image
	sender TEXT NOT NULL,		-- the "from" nick
	recipient TEXT,			-- the "to" nick: private only
	text TEXT,			-- message text; 'logout' or 'timeout'
	image_id INTEGER,		-- image events
	online INTEGER,			-- join and leave: people online after
	sender_session INTEGER,		-- sessions.id of the sender
	recipient_session INTEGER,	-- sessions.id of the recipient
	client_id TEXT			-- the sender's retry key, if any
);
CREATE INDEX events_room ON events(room, id);
CREATE INDEX events_sender ON events(sender_session, id);
CREATE UNIQUE INDEX events_client_id ON events(sender_session, client_id)
	WHERE client_id IS NOT NULL;

-- The log with readable times (UTC), for people at the sqlite3 prompt.
CREATE VIEW event_log AS
	SELECT id,
	       strftime('%Y-%m-%d %H:%M:%f', ts / 1000.0, 'unixepoch') AS time,
	       type, room, sender, recipient, text, online
	FROM events;
