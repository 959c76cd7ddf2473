-- +goose Up
-- An old tracker's peer whose port is unknown (Gazelle's xbt_files_users
-- keeps none) has port 0: it is still its session's baseline, and the
-- tracker hands it out to other peers only once its first announce to
-- ratioguard gives the port.
ALTER TABLE site_peers DROP CONSTRAINT site_peers_port_check;
ALTER TABLE site_peers ADD CONSTRAINT site_peers_port_check CHECK (port BETWEEN 0 AND 65535);

-- +goose Down
DELETE FROM site_peers WHERE port = 0;
ALTER TABLE site_peers DROP CONSTRAINT site_peers_port_check;
ALTER TABLE site_peers ADD CONSTRAINT site_peers_port_check CHECK (port BETWEEN 1 AND 65535);
