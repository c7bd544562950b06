-- chatd schema, version 3: images.
--
-- An upload (POST /api/image) writes its bytes here and an event of type
-- 'image' whose image_id points to them, in one transaction. Who may see
-- an image is who may see its event: everyone for a room's image, its
-- sender and its recipient for a private one. chatd never changes or
-- deletes a row. queries.sql lists the last images posted.
--
-- Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
CREATE TABLE images (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	type TEXT NOT NULL CHECK (type IN
		('image/png', 'image/jpeg', 'image/gif', 'image/webp')),
	size INTEGER NOT NULL,		-- bytes
	data BLOB NOT NULL,
	created_ms INTEGER NOT NULL	-- Unix milliseconds
);
-- From an image to its event: who may see it.
CREATE INDEX events_image ON events(image_id) WHERE image_id IS NOT NULL;
