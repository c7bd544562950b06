-- Writing to the chat from outside chatd, e.g. an announcement from cron:
--
--   sqlite3 /var/lib/chatd/chat.db < insert-from-shell.sql
--
-- A row inserted like this is an event like any other: chatd notices the
-- new row (it watches the database for commits by anyone) and answers the
-- waiting polls that may see it within milliseconds. Only id and ts are
-- filled in for you. Use the reserved nick 'system' as the sender so that
-- nobody can be confused with it: no person can log in as 'system'.
--
-- A public message in a room ('lobby' is where everyone starts):
--
-- Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
INSERT INTO events (type, room, sender, text)
VALUES ('message', 'lobby', 'system', 'The chat restarts at 22:00 UTC.');
