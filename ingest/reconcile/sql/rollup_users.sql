SELECT user_id, countMerge(announces), sumMerge(delta_uploaded), sumMerge(delta_downloaded),
       sumMerge(credited_uploaded), sumMerge(credited_downloaded), sumMerge(seedtime_seconds), toUInt64(0)
FROM user_hour
GROUP BY user_id
