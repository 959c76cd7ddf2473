-- Swarm conservation per torrent over a closed window: Σup − Σdown − Σcorrupt
-- is only meaningful once the swarm has had no start or completion for
-- @closed_after seconds, and only above @floor_pct % of the torrent size
-- (from detector_torrents, else the largest `left` seen). One row per
-- uploader of each unbalanced torrent, with the torrent's totals. Raw
-- deltas; dual-stack duplicates are not summed; corrupt is a per-peer
-- counter, so its growth per peer is summed.
SELECT
    t.torrent_id AS torrent_id,
    t.size AS size,
    t.sum_up AS sum_up,
    t.sum_down AS sum_down,
    t.sum_corrupt AS sum_corrupt,
    u.user_id AS user_id,
    u.up AS up
FROM (
    SELECT torrent_id, if(pg_size > 0, pg_size, max_left) AS size, sum_up, sum_down, sum_corrupt
    FROM (
        SELECT torrent_id, sum_up, sum_down, sum_corrupt, max_left, last_change
        FROM (
            SELECT
                torrent_id,
                toUInt64(sum(delta_uploaded)) AS sum_up,
                toUInt64(sum(delta_downloaded)) AS sum_down,
                toUInt64(max(left)) AS max_left,
                maxIf(time, event IN ('started', 'completed')) AS last_change
            FROM announces
            WHERE time >= toDateTime(@from) AND time < toDateTime(@until)
              AND result = 'accepted' AND dual_stack_duplicate = 0
              AND torrent_id IN (SELECT torrent_id FROM torrent_hour WHERE hour >= toStartOfHour(toDateTime(@active_since)))
            GROUP BY torrent_id
        ) ANY LEFT JOIN (
            SELECT torrent_id, toUInt64(sum(peer_corrupt)) AS sum_corrupt
            FROM (
                SELECT torrent_id, peer_id, max(corrupt) - min(corrupt) AS peer_corrupt
                FROM announces
                WHERE time >= toDateTime(@from) AND time < toDateTime(@until) AND result = 'accepted'
                GROUP BY torrent_id, user_id, peer_id
            )
            GROUP BY torrent_id
        ) USING torrent_id
    ) ANY LEFT JOIN (
        SELECT torrent_id, toUInt64(argMax(size, version)) AS pg_size
        FROM detector_torrents
        GROUP BY torrent_id
    ) USING torrent_id
    WHERE (toUInt32(last_change) = 0 OR last_change <= toDateTime(@until) - @closed_after)
      AND size > 0
      AND toInt64(sum_up) - toInt64(sum_down) - toInt64(sum_corrupt) > size * @floor_pct / 100
) AS t
ALL INNER JOIN (
    SELECT torrent_id, user_id, toUInt64(sum(delta_uploaded)) AS up
    FROM announces
    WHERE time >= toDateTime(@from) AND time < toDateTime(@until)
      AND result = 'accepted' AND dual_stack_duplicate = 0 AND delta_uploaded > 0
    GROUP BY torrent_id, user_id
) AS u USING torrent_id
