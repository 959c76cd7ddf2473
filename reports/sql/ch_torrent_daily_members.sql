-- A torrent's raw bytes per day and member over the window, with the starts
-- and completions that tell whether a day's swarm was closed.
SELECT toDate(time) AS day, user_id, sum(delta_uploaded) AS up, sum(delta_downloaded) AS down,
       sum(toUInt64(event = 'started')) AS starts, sum(toUInt64(event = 'completed')) AS completions,
       max(time) AS last
FROM announces
PREWHERE toStartOfHour(time) >= toStartOfHour(toDateTime(@from)) AND torrent_id = @torrent
WHERE result = 'accepted'
GROUP BY day, user_id
ORDER BY day, user_id
