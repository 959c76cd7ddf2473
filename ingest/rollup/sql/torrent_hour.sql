-- One hour of torrent_hour, from the accepted raw rows of that hour.
SELECT torrent_id,
       toStartOfHour(time) AS hour,
       countState() AS announces,
       sumState(delta_uploaded) AS delta_uploaded,
       sumState(delta_downloaded) AS delta_downloaded,
       maxState(corrupt) AS corrupt_max,
       sumState(toUInt64(event = 'started')) AS starts,
       sumState(toUInt64(event = 'completed')) AS completions,
       maxState(seeders) AS max_seeders,
       maxState(leechers) AS max_leechers
FROM announces
WHERE toStartOfHour(time) = toDateTime(@hour) AND result = 'accepted'
GROUP BY torrent_id, hour
