-- Per member, user_hour over the hours {hours} selects.
SELECT user_id, countMerge(announces), sumMerge(delta_uploaded), sumMerge(delta_downloaded),
       sumMerge(credited_uploaded), sumMerge(credited_downloaded), sumMerge(seedtime_seconds), toUInt64(0)
FROM user_hour
WHERE {hours}
GROUP BY user_id
