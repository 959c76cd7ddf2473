-- A member's days over the window: raw upload and download (deltas as the
-- client reported them), networks and clients (peer ids) seen. Days without
-- an announce have no row: the chart shows them as gaps.
SELECT toDate(time) AS day, sum(delta_uploaded) AS up, sum(delta_downloaded) AS down,
       uniqExact(network) AS networks, uniqExact(peer_id) AS peers
FROM announces
PREWHERE toStartOfHour(time) >= toStartOfHour(toDateTime(@from)) AND user_id = @user
WHERE result = 'accepted'
GROUP BY day
ORDER BY day
