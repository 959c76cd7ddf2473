-- A member's days over the window from the hourly rollup (ordered by
-- member: one seek per hour partition, never a scan of the raw table): raw
-- upload and download, networks and user agents seen. Days without an
-- announce have no row: the chart shows them as gaps.
SELECT toDate(hour) AS day, sumMerge(delta_uploaded) AS up, sumMerge(delta_downloaded) AS down,
       uniqExactMerge(networks) AS networks, uniqExactMerge(user_agents) AS agents
FROM user_hour
WHERE user_id = @user AND hour >= toStartOfHour(toDateTime(@from))
GROUP BY day
ORDER BY day
