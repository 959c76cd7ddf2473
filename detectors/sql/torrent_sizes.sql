-- Torrent sizes from Postgres, synced into detector_torrents (every torrent:
-- one row each after merges; callers fall back to the largest `left` seen).
SELECT torrent_id, toUInt64(argMax(size, version)) AS size
FROM detector_torrents
GROUP BY torrent_id
