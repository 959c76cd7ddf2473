-- Swarm conservation per torrent over a closed window: Σup − Σdown − Σcorrupt
-- is only meaningful once the swarm has had no start or completion for
-- @closed_after seconds (judged per hour from the torrent_hour rollup), and
-- only above @floor_pct % of the torrent size (from detector_torrents, else
-- the largest `left` seen). One row per uploader of each unbalanced torrent,
-- with the torrent's totals. Raw deltas (dual-stack duplicates carry none);
-- corrupt is a per-peer counter, so its growth per peer is summed. Only the
-- unbalanced torrents are read from the raw rows (announces_by_torrent,
-- ordered by torrent).
SELECT
    t.torrent_id AS torrent_id,
    t.size AS size,
    t.sum_up AS sum_up,
    t.sum_down AS sum_down,
    t.sum_corrupt AS sum_corrupt,
    u.user_id AS user_id,
    u.up AS up
FROM (
    SELECT torrent_id, size, sum_up, sum_down, sum_corrupt
    FROM (
        SELECT torrent_id, sum_up, sum_down, if(pg_size > 0, pg_size, max_left) AS size
        FROM (
            SELECT torrent_id, toUInt64(sumMerge(delta_uploaded)) AS sum_up, toUInt64(sumMerge(delta_downloaded)) AS sum_down,
                   maxIf(hour, finalizeAggregation(starts) + finalizeAggregation(completions) > 0) AS last_change
            FROM torrent_hour
            WHERE hour >= toStartOfHour(toDateTime(@from)) AND hour < toDateTime(@until)
              AND torrent_id IN (SELECT torrent_id FROM torrent_hour WHERE hour >= toStartOfHour(toDateTime(@active_since)) AND hour < toDateTime(@until))
            GROUP BY torrent_id
            HAVING (toUInt32(last_change) = 0 OR last_change + 3600 <= toDateTime(@until) - @closed_after)
               AND sum_up > sum_down
        ) ANY LEFT JOIN (
            SELECT torrent_id, toUInt64(argMax(size, version)) AS pg_size, toUInt64(0) AS max_left
            FROM detector_torrents
            GROUP BY torrent_id
        ) USING torrent_id
        WHERE size > 0 AND sum_up - sum_down > size * @floor_pct / 100
    ) ANY LEFT JOIN (
        SELECT torrent_id, toUInt64(sum(peer_corrupt)) AS sum_corrupt
        FROM (
            SELECT torrent_id, max(corrupt) - min(corrupt) AS peer_corrupt
            FROM announces_by_torrent
            PREWHERE torrent_id IN (SELECT torrent_id FROM torrent_hour WHERE hour >= toStartOfHour(toDateTime(@from)) AND hour < toDateTime(@until) GROUP BY torrent_id HAVING sumMerge(delta_uploaded) > sumMerge(delta_downloaded))
            WHERE time >= toDateTime(@from) AND time < toDateTime(@until) AND result = 'accepted'
            GROUP BY torrent_id, user_id, peer_id
        )
        GROUP BY torrent_id
    ) USING torrent_id
    WHERE toInt64(sum_up) - toInt64(sum_down) - toInt64(sum_corrupt) > size * @floor_pct / 100
) AS t
ALL INNER JOIN (
    SELECT torrent_id, user_id, toUInt64(sum(delta_uploaded)) AS up
    FROM announces_by_torrent
    PREWHERE torrent_id IN (SELECT torrent_id FROM torrent_hour WHERE hour >= toStartOfHour(toDateTime(@from)) AND hour < toDateTime(@until) GROUP BY torrent_id HAVING sumMerge(delta_uploaded) > sumMerge(delta_downloaded))
    WHERE time >= toDateTime(@from) AND time < toDateTime(@until) AND result = 'accepted' AND delta_uploaded > 0
    GROUP BY torrent_id, user_id
) AS u USING torrent_id
