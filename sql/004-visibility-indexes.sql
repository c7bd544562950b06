-- chatd schema, version 4: an index for each way an event may be visible.
--
-- A poll or a history read wants the first (or last) few events that its
-- caller may see: a message or public image of the room, any join or
-- leave, a private event sent or received (docs/api.md, "who sees what"). Read
-- as one condition over the log, that is a walk through every row in the
-- id range until enough are visible, and a caller who picks a stretch of
-- log it may not see (another room's flood) makes that walk a million
-- rows long. So each way has an index in id order, from which chatd
-- takes at most the limit and merges (store.c, S_POLL and S_HISTORY):
-- the room's through events_room, and these three.
--
-- Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
CREATE INDEX events_presence ON events(id) WHERE type IN ('join', 'leave');
CREATE INDEX events_private_sent ON events(sender_session, id)
	WHERE recipient IS NOT NULL;
CREATE INDEX events_private_received ON events(recipient_session, id)
	WHERE recipient IS NOT NULL;
