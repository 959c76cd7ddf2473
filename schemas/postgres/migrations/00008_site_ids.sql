-- +goose Up
-- The site application's own ids (Gazelle users_main.ID / torrents.ID, UNIT3D
-- users.id / torrents.id). The control protocols address members and torrents
-- by them, and the write-back writes credited stats to the rows they name.
-- NULL for members and torrents the site does not know (ratioguard user add).
ALTER TABLE users ADD COLUMN site_id BIGINT UNIQUE;
ALTER TABLE torrents ADD COLUMN site_id BIGINT UNIQUE;

-- +goose Down
ALTER TABLE torrents DROP COLUMN site_id;
ALTER TABLE users DROP COLUMN site_id;
