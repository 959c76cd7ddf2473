-- Swarm conservation candidates: torrents active since @active_since whose
-- swarm is closed (no start or completion for @closed_after seconds, judged
-- per hour from the torrent_hour rollup) and whose Σup − Σdown over the
-- window is above @floor_pct % of the size (from detector_torrents, else
-- the largest `left` seen). Only these torrents' raw rows are read next
-- (fu_conservation).
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
