-- +goose Up
-- Active peers' last counters on the site's old tracker (UNIT3D peers,
-- Gazelle xbt_files_users after Ocelot stops), written by `import site`.
-- A tracker starting within its state window of announced_at loads each as
-- the session's baseline (tracker/state), so the peer's first announce to
-- ratioguard credits the traffic since its last announce to the old tracker.
CREATE TABLE site_peers (
    user_id      BIGINT NOT NULL REFERENCES users (id),
    torrent_id   BIGINT NOT NULL REFERENCES torrents (id),
    peer_id      BYTEA NOT NULL CHECK (length(peer_id) = 20),
    ip           INET NOT NULL,
    port         INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),
    uploaded     BIGINT NOT NULL CHECK (uploaded >= 0),
    downloaded   BIGINT NOT NULL CHECK (downloaded >= 0),
    left_bytes   BIGINT NOT NULL CHECK (left_bytes >= 0),
    announced_at TIMESTAMPTZ NOT NULL,
    imported_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, torrent_id, peer_id)
);
CREATE INDEX site_peers_announced_at ON site_peers (announced_at);

-- +goose Down
DROP TABLE site_peers;
