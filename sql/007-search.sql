-- chatd schema: full-text search of the history, and the indexes that
-- --retain deletes by.
--
-- events_fts is an FTS5 index of the text of every message and private
-- message (not of joins, leaves or images: their text is 'logout',
-- 'timeout' or nothing). It keeps no copy of the text: it is an external
-- content table over events (content_rowid = id), so the text is read
-- from events when a query wants it back (highlight(), snippet()).
-- Triggers keep it in step with events, whoever writes: chatd, or the
-- sqlite3 shell (INSERT, DELETE and UPDATE all count; not INSERT OR
-- REPLACE, which deletes without firing the DELETE trigger unless PRAGMA
-- recursive_triggers is on). queries.sql shows how to search it.
--
-- The index holds some rows of events only, so never run its 'rebuild'
-- command (that would index every row, joins and leaves too, which the
-- DELETE trigger would then leave behind). Should it ever need building
-- again, do what this file does:
--   INSERT INTO events_fts(events_fts) VALUES ('delete-all');
--   INSERT INTO events_fts(rowid, text) SELECT id, text FROM events
--     WHERE type IN ('message', 'private');
--
-- Words are split and folded by the unicode61 tokenizer: letters and
-- digits of every script, case and diacritics ignored ("Café" = "cafe").
-- A run of CJK characters without spaces is one word.
--
-- Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
CREATE VIRTUAL TABLE events_fts USING fts5(text, content = 'events',
	content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 2');
INSERT INTO events_fts(rowid, text) SELECT id, text FROM events
	WHERE type IN ('message', 'private');
CREATE TRIGGER events_fts_insert AFTER INSERT ON events
	WHEN NEW.type IN ('message', 'private') BEGIN
	INSERT INTO events_fts(rowid, text) VALUES (NEW.id, NEW.text);
END;
CREATE TRIGGER events_fts_delete AFTER DELETE ON events
	WHEN OLD.type IN ('message', 'private') BEGIN
	INSERT INTO events_fts(events_fts, rowid, text)
		VALUES ('delete', OLD.id, OLD.text);
END;
-- One trigger for both halves of an UPDATE, so that the old words go
-- before the new ones come (two triggers could fire in either order).
CREATE TRIGGER events_fts_update AFTER UPDATE OF id, type, text ON events
BEGIN
	INSERT INTO events_fts(events_fts, rowid, text)
		SELECT 'delete', OLD.id, OLD.text
		WHERE OLD.type IN ('message', 'private');
	INSERT INTO events_fts(rowid, text) SELECT NEW.id, NEW.text
		WHERE NEW.type IN ('message', 'private');
END;

-- chatd --retain DAYS deletes the events older than DAYS days (by ts, so
-- a row written from the shell with an old ts goes too) and the sessions
-- that ended before then, a few hundred at a time: these two indexes let
-- it find them without reading the tables through.
CREATE INDEX events_ts ON events(ts);
CREATE INDEX sessions_ended ON sessions(ended_ms) WHERE ended_ms IS NOT NULL;
