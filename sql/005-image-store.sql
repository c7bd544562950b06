-- chatd schema, version 5: how many bytes the images take, as a running
-- total that chatd reads at every upload (summing the images table would
-- read a page of every image). Triggers keep it, so a DELETE FROM images
-- made in the sqlite3 shell to free space counts too. (Not INSERT OR
-- REPLACE into images: a REPLACE deletes without firing the DELETE
-- trigger, unless PRAGMA recursive_triggers is on.) Should the total
-- ever be lost, chatd answers uploads 503 until it is put back:
--   INSERT OR REPLACE INTO image_store (id, bytes)
--     SELECT 1, coalesce(sum(size), 0) FROM images;
--
-- chatd refuses an upload that would take the total past --image-store
-- (503, nothing written), and one that would take its session past
-- --image-quota bytes within the quota's window (429 with Retry-After).
-- queries.sql shows how to see the total and free space.
--
-- Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
CREATE TABLE image_store (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	bytes INTEGER NOT NULL
);
INSERT INTO image_store (id, bytes)
	SELECT 1, coalesce(sum(size), 0) FROM images;
CREATE TRIGGER image_store_insert AFTER INSERT ON images BEGIN
	UPDATE image_store SET bytes = bytes + NEW.size WHERE id = 1;
END;
CREATE TRIGGER image_store_delete AFTER DELETE ON images BEGIN
	UPDATE image_store SET bytes = bytes - OLD.size WHERE id = 1;
END;
CREATE TRIGGER image_store_update AFTER UPDATE OF size ON images BEGIN
	UPDATE image_store SET bytes = bytes - OLD.size + NEW.size WHERE id = 1;
END;
