-- A torrent's swarm by hour over the window from the hourly rollup: the
-- largest seeder and leecher counts the tracker answered with, raw bytes.
SELECT hour, maxMerge(max_seeders) AS seeders, maxMerge(max_leechers) AS leechers,
       sumMerge(delta_uploaded) AS up, sumMerge(delta_downloaded) AS down
FROM torrent_hour
WHERE torrent_id = @torrent AND hour >= toStartOfHour(toDateTime(@from))
GROUP BY hour
ORDER BY hour
