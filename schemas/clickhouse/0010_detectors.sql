-- Torrent sizes for the detectors (ClickHouse does not see Postgres): the
-- detector scheduler copies torrents.size here; read with
-- argMax(size, version) GROUP BY torrent_id.
CREATE TABLE IF NOT EXISTS detector_torrents (
    torrent_id UInt64,
    size       UInt64,
    version    UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY torrent_id;
