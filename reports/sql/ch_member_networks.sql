-- A member's networks (/24, /64) over the window from the hourly rollup:
-- first and last hour seen, announces, raw bytes.
SELECT network, min(hour) AS first_seen, max(hour) AS last_seen, countMerge(announces) AS n,
       sumMerge(delta_uploaded) AS up, sumMerge(delta_downloaded) AS down
FROM user_network_hour
WHERE user_id = @user AND hour >= toStartOfHour(toDateTime(@from))
GROUP BY network
ORDER BY last_seen DESC
LIMIT 500
