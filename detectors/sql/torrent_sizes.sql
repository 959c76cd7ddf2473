-- Torrent sizes for the given torrents: Postgres' size synced into
-- detector_torrents, else the largest `left` any peer reported in the window.
SELECT torrent_id, toUInt64(if(pg_size > 0, pg_size, max_left)) AS size
FROM (
    SELECT torrent_id, max(left) AS max_left
    FROM announces_by_torrent
    PREWHERE torrent_id IN (SELECT toUInt64(arrayJoin(@torrents)))
    WHERE time >= toDateTime(@from) AND time < toDateTime(@until)
    GROUP BY torrent_id
) ANY LEFT JOIN (
    SELECT torrent_id, argMax(size, version) AS pg_size
    FROM detector_torrents
    WHERE torrent_id IN (SELECT toUInt64(arrayJoin(@torrents)))
    GROUP BY torrent_id
) USING torrent_id
