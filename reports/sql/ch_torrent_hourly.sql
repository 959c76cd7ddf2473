-- A torrent's swarm by hour over the window: the largest seeder and leecher
-- counts the tracker answered with, members announcing, and the raw bytes.
SELECT toStartOfHour(time) AS hour, max(seeders) AS seeders, max(leechers) AS leechers,
       uniqExact(user_id) AS members, sum(delta_uploaded) AS up, sum(delta_downloaded) AS down
FROM announces
PREWHERE toStartOfHour(time) >= toStartOfHour(toDateTime(@from)) AND torrent_id = @torrent
WHERE result = 'accepted'
GROUP BY hour
ORDER BY hour
