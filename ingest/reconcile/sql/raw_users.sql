SELECT user_id, count(), sum(delta_uploaded), sum(delta_downloaded),
       sum(credited_uploaded), sum(credited_downloaded), sum(toUInt64(seedtime_seconds)), toUInt64(0)
FROM announces
GROUP BY user_id
