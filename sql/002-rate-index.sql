-- chatd schema, version 2: the rate limit's index.
--
-- The rate limit asks "when were this session's last N sends?". The index
-- of version 1, events_sender (sender_session, id), made that query walk
-- every send the session ever made. events_sends answers it from itself
-- alone, walking only the sends inside the window.
--
-- Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
DROP INDEX IF EXISTS events_sender;
CREATE INDEX events_sends ON events(sender_session, ts, type)
	WHERE type IN ('message', 'private', 'image');
