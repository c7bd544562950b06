-- Ready-made questions for the sqlite3 shell, safe on a live database
-- (chatd uses WAL: readers never block it, and it never blocks them).
--
--   sqlite3 -readonly /var/lib/chatd/chat.db < queries.sql
--
-- (make install puts this file in the sql/ folder of chatd's data
-- directory, PREFIX/share/chatd), or paste one at the sqlite3 prompt.
-- Times are UTC.
--
-- Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.

.headers on
.mode column

-- The last 20 messages of the lobby, oldest first.
SELECT time, sender, text
FROM (SELECT * FROM event_log WHERE type = 'message' AND room = 'lobby'
      ORDER BY id DESC LIMIT 20)
ORDER BY id;

-- Who said the most in the last 24 hours, in every room.
SELECT sender, count(*) AS messages FROM event_log
WHERE type IN ('message', 'private', 'image')
  AND time > strftime('%Y-%m-%d %H:%M:%f', 'now', '-1 day')
GROUP BY sender ORDER BY messages DESC LIMIT 10;

-- The last 10 images: when, who, where (a room, or to whom), type, bytes.
-- To save one to a file: SELECT writefile('img.png', data) FROM images
-- WHERE id = N; (without -readonly).
SELECT strftime('%Y-%m-%d %H:%M:%S', e.ts / 1000, 'unixepoch') AS time,
       e.sender, coalesce(e.room, 'to ' || e.recipient) AS place,
       i.id AS image, i.type, i.size
FROM events e JOIN images i ON i.id = e.image_id
WHERE e.type = 'image' ORDER BY e.id DESC LIMIT 10;

-- The bytes the images take (chatd refuses uploads past --image-store),
-- and the number of images. To free space, delete the oldest images (their
-- events stay, and show a missing image):
--   DELETE FROM images WHERE created_ms <
--     (CAST((julianday('now', '-30 days') - 2440587.5) * 86400000 AS INTEGER));
SELECT s.bytes, (SELECT count(*) FROM images) AS images FROM image_store s;

-- Comings and goings of the last hour, with how many were online after.
SELECT time, type, sender AS nick, text AS reason, online FROM event_log
WHERE type IN ('join', 'leave')
  AND time > strftime('%Y-%m-%d %H:%M:%f', 'now', '-1 hour')
ORDER BY id;

-- Who is online now, and for how long they have been idle (seconds).
SELECT nick,
       strftime('%Y-%m-%d %H:%M:%S', created_ms / 1000, 'unixepoch') AS since,
       (CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)
        - last_seen_ms) / 1000 AS idle
FROM sessions WHERE ended_ms IS NULL ORDER BY nick;

-- Full-text search (sql/007-search.sql: events_fts indexes the text of
-- messages and private messages). Words are matched whole, whatever their
-- case and diacritics; several words must all be there; "..." is a
-- phrase, OR and NOT work, and word* is a prefix (FTS5 query syntax:
-- https://sqlite.org/fts5.html#full_text_query_syntax).
--
-- The last 20 messages of every room and every private message with both
-- "deploy" and "friday", newest first, the words in [brackets]:
SELECT strftime('%Y-%m-%d %H:%M:%S', e.ts / 1000, 'unixepoch') AS time,
       e.sender, coalesce(e.room, 'to ' || e.recipient) AS place,
       highlight(events_fts, 0, '[', ']') AS text
FROM events_fts JOIN events e ON e.id = events_fts.rowid
WHERE events_fts MATCH 'deploy friday'
ORDER BY events_fts.rowid DESC LIMIT 20;

-- Other questions, each for the WHERE line above:
--   events_fts MATCH '"release notes"'       the phrase
--   events_fts MATCH 'deploy*'               deploy, deployed, deploying
--   events_fts MATCH 'outage NOT test'       outage without test
--   events_fts MATCH 'outage' AND e.room = 'ops'
--                                            in one room only
--   events_fts MATCH 'outage' AND e.ts > (CAST((julianday('now', '-7 days')
--     - 2440587.5) * 86400000 AS INTEGER))   in the last week
-- How often each person said it:
SELECT e.sender, count(*) AS times
FROM events_fts JOIN events e ON e.id = events_fts.rowid
WHERE events_fts MATCH 'deploy'
GROUP BY e.sender ORDER BY times DESC LIMIT 10;

-- With --retain DAYS, the oldest event kept and how many there are; and
-- the sessions that ended and are not pruned yet.
SELECT (SELECT min(time) FROM event_log) AS oldest,
       (SELECT count(*) FROM events) AS events,
       (SELECT count(*) FROM sessions WHERE ended_ms IS NOT NULL) AS ended;
