-- What each torrent's swarm reported downloading in the window (from the
-- torrent_hour rollup): a counter jump is an upload delta no download could
-- have matched.
SELECT torrent_id, toUInt64(sumMerge(delta_downloaded)) AS swarm_down
FROM torrent_hour
WHERE hour >= toStartOfHour(toDateTime(@from)) AND hour < toDateTime(@until)
GROUP BY torrent_id
