-- chatd schema: the full-text index of 007, written after the send.
--
-- 007 indexed every message in the transaction that wrote it, and that
-- cost sends nearly a third of their rate: FTS5 pays for each
-- transaction that writes to it (a new segment, merges), and with the
-- group commit that was every send batch. Now events_fts holds the events up to a mark,
-- search_indexed.hi; chatd indexes those above it, up to a thousand per
-- transaction, a quarter of a second after they come, and before it
-- answers a search (store_index), so a search sees every event written
-- before it, whoever wrote it. An INSERT from the sqlite3 shell gets a
-- new id (AUTOINCREMENT), above the mark: the next sweep indexes it.
--
-- The triggers keep the index in step below the mark, so that it holds
-- exactly the messages and private messages with id <= hi: an INSERT
-- with an explicit id below the mark (into a gap that --retain or a
-- DELETE left) is indexed at once, a DELETE or UPDATE takes the old
-- words out only if they were ever put in (the 'delete' command of an
-- external-content index must be given what was indexed, never what was
-- not), and puts the new ones in only below the mark. Above the mark
-- nothing is to do: the sweep reads events as they are then.
--
-- To index what is above the mark from the sqlite3 shell (chatd does
-- it by itself), in one transaction:
--   BEGIN IMMEDIATE;
--   INSERT INTO events_fts(rowid, text) SELECT id, text FROM events
--     WHERE id > (SELECT hi FROM search_indexed)
--     AND type IN ('message', 'private');
--   UPDATE search_indexed SET hi = (SELECT max(id) FROM events)
--     WHERE (SELECT max(id) FROM events) > hi;
--   COMMIT;
-- And to build the whole index again (007's recipe, which indexes every
-- event there is), move the mark to the top in the same transaction:
--   UPDATE search_indexed SET hi = (SELECT coalesce(max(id), 0) FROM events);
--
-- Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
CREATE TABLE search_indexed (
	one INTEGER PRIMARY KEY CHECK (one = 1),
	hi INTEGER NOT NULL
);
-- 007's triggers indexed every event there is.
INSERT INTO search_indexed(one, hi) SELECT 1, coalesce(max(id), 0) FROM events;
DROP TRIGGER events_fts_insert;
DROP TRIGGER events_fts_delete;
DROP TRIGGER events_fts_update;
CREATE TRIGGER events_fts_insert AFTER INSERT ON events
	WHEN NEW.type IN ('message', 'private')
	AND NEW.id <= (SELECT hi FROM search_indexed) BEGIN
	INSERT INTO events_fts(rowid, text) VALUES (NEW.id, NEW.text);
END;
CREATE TRIGGER events_fts_delete AFTER DELETE ON events
	WHEN OLD.type IN ('message', 'private')
	AND OLD.id <= (SELECT hi FROM search_indexed) BEGIN
	INSERT INTO events_fts(events_fts, rowid, text)
		VALUES ('delete', OLD.id, OLD.text);
END;
-- One trigger for both halves of an UPDATE, so that the old words go
-- before the new ones come (two triggers could fire in either order).
CREATE TRIGGER events_fts_update AFTER UPDATE OF id, type, text ON events
BEGIN
	INSERT INTO events_fts(events_fts, rowid, text)
		SELECT 'delete', OLD.id, OLD.text
		WHERE OLD.type IN ('message', 'private')
		AND OLD.id <= (SELECT hi FROM search_indexed);
	INSERT INTO events_fts(rowid, text) SELECT NEW.id, NEW.text
		WHERE NEW.type IN ('message', 'private')
		AND NEW.id <= (SELECT hi FROM search_indexed);
END;
