-- chatd schema, version 6: nicks that cannot pass for others.
--
-- Version 1 kept nicks unique by their case-folded form (nick_key), so
-- "аlice" with a Cyrillic а, or "ѕуѕтем" all in Cyrillic, could log in
-- next to "alice" and pose as the reserved "system". Now each session has
-- two look-alike keys, the UTS #39 confusable skeletons of its case-folded
-- nick as seen in lower case and in capitals (src/nick.c says how), and a
-- nick is taken while a live session has either key. nick_key stays, as
-- the order of the online list.
--
-- SQL cannot compute a skeleton: chatd registers the functions
-- chatd_nick_skeleton(nick) and chatd_nick_skeleton_caps(nick) (ICU) on
-- its connection, and applies this file itself, in one transaction with
-- the rest of the migration. The sqlite3 shell has no such functions, so
-- the triggers below make it refuse to insert a session, or to change a
-- nick or a key, with "no such function: chatd_nick_skeleton": a row made
-- by hand cannot carry a wrong key. Only chatd writes sessions; the shell
-- may read them, and end one (UPDATE sessions SET ended_ms = ...).
--
-- Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
ALTER TABLE sessions ADD COLUMN nick_skeleton TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN nick_skeleton_caps TEXT NOT NULL DEFAULT '';

-- Every existing row gets its keys. A nick chatd cannot read (not UTF-8,
-- so never written by chatd) gets a key no nick has: a control character
-- and its id.
UPDATE sessions SET
	nick_skeleton = coalesce(chatd_nick_skeleton(nick), char(1) || id),
	nick_skeleton_caps =
		coalesce(chatd_nick_skeleton_caps(nick), char(1) || id);

-- Live sessions that the new keys make one nick (alice and аlice, both
-- logged in): the oldest of each keeps it, the others end as if timed out,
-- each with its leave event; and so do those that look like "system"
-- ("ѕуѕтем" and "sуstem" could log in before).
CREATE TEMP TABLE nick_twins AS
	SELECT id, nick FROM sessions WHERE ended_ms IS NULL AND id NOT IN
		(SELECT min(id) FROM sessions WHERE ended_ms IS NULL
		 GROUP BY nick_skeleton)
	UNION
	SELECT id, nick FROM sessions WHERE ended_ms IS NULL AND id NOT IN
		(SELECT min(id) FROM sessions WHERE ended_ms IS NULL
		 GROUP BY nick_skeleton_caps)
	UNION
	SELECT id, nick FROM sessions WHERE ended_ms IS NULL
		AND (nick_skeleton = chatd_nick_skeleton('system')
		     OR nick_skeleton_caps = chatd_nick_skeleton_caps('system'));
UPDATE sessions SET
	ended_ms = CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER),
	end_reason = 'timeout'
	WHERE id IN (SELECT id FROM temp.nick_twins);
INSERT INTO events (type, sender, text, online, sender_session)
	SELECT 'leave', nick, 'timeout',
	       (SELECT count(*) FROM sessions WHERE ended_ms IS NULL), id
	FROM temp.nick_twins ORDER BY id;
DROP TABLE temp.nick_twins;

-- The keys are unique among live sessions: a nick is free again once its
-- session has ended. The folded nick_key is no longer unique (a key of its
-- own would refuse, with a 503, what the skeletons let through), only the
-- order of the online list.
DROP INDEX sessions_live_nick;
CREATE INDEX sessions_live_nick ON sessions(nick_key) WHERE ended_ms IS NULL;
CREATE UNIQUE INDEX sessions_live_skeleton ON sessions(nick_skeleton)
	WHERE ended_ms IS NULL;
CREATE UNIQUE INDEX sessions_live_skeleton_caps
	ON sessions(nick_skeleton_caps) WHERE ended_ms IS NULL;

-- A session's keys are those of its nick, whoever writes it.
CREATE TRIGGER sessions_keys_insert BEFORE INSERT ON sessions
WHEN NEW.nick_skeleton IS NOT chatd_nick_skeleton(NEW.nick)
  OR NEW.nick_skeleton_caps IS NOT chatd_nick_skeleton_caps(NEW.nick)
BEGIN
	SELECT RAISE(ABORT, 'nick_skeleton and nick_skeleton_caps must be the keys of nick');
END;
CREATE TRIGGER sessions_keys_update
BEFORE UPDATE OF nick, nick_skeleton, nick_skeleton_caps ON sessions
WHEN NEW.nick_skeleton IS NOT chatd_nick_skeleton(NEW.nick)
  OR NEW.nick_skeleton_caps IS NOT chatd_nick_skeleton_caps(NEW.nick)
BEGIN
	SELECT RAISE(ABORT, 'nick_skeleton and nick_skeleton_caps must be the keys of nick');
END;
