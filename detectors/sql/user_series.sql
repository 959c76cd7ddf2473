-- Hourly raw upload, download and network count of the given members, for
-- the evidence charts.
SELECT
    user_id,
    hour,
    toUInt64(sumMerge(delta_uploaded)) AS up,
    toUInt64(sumMerge(delta_downloaded)) AS down,
    toUInt64(uniqExactMerge(networks)) AS networks
FROM user_hour
WHERE user_id IN (SELECT toUInt64(arrayJoin(@users))) AND hour >= toStartOfHour(toDateTime(@from)) AND hour < toDateTime(@until)
GROUP BY user_id, hour
ORDER BY user_id, hour
