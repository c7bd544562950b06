-- chatd schema, version 9: a send without throw-away tables.
--
-- SQLite tests "x IN (a, b, c)" with three or more constants by filling a
-- temporary b-tree with them, once per statement (EXPLAIN shows an
-- OpenEphemeral); with one or two it compares. An INSERT into events
-- tested two such lists for every row: the CHECK of version 1 (five
-- types) and the WHERE of events_sends (version 2: the three kinds of
-- send). Both had a b-tree opened, filled and freed per send, about a
-- third of what SQLite spent on one (docs/design.md, "What a send
-- costs"). The same conditions written without a list of three:
--
-- The CHECK, edited in place: a CHECK that every row already satisfies may
-- be rewritten as an equivalent one without rebuilding the table (the
-- SQLite documentation of ALTER TABLE, "making other kinds of table schema
-- changes"). The DROP and CREATE INDEX below change the schema cookie, so
-- that every connection reads the new text; RESET makes this one read it.
PRAGMA writable_schema = ON;
UPDATE sqlite_schema SET sql = replace(sql,
	'CHECK (type IN (''message'', ''private'', ''image'', ''join'', ''leave''))',
	'CHECK (type = ''message'' OR type = ''private'' OR type = ''image''' ||
	' OR type = ''join'' OR type = ''leave'')')
	WHERE type = 'table' AND name = 'events';
PRAGMA writable_schema = RESET;

-- The sends of a session, for the rate limit and the image quota: every
-- event but a join or a leave, which is what the three kinds were.
DROP INDEX events_sends;
CREATE INDEX events_sends ON events(sender_session, ts, type)
	WHERE type NOT IN ('join', 'leave');
