-- Per member, the raw announces of the hours {hours} selects (the hours the
-- rollups are up to date for), as user_hour sums them.
SELECT user_id, count(), sum(delta_uploaded), sum(delta_downloaded),
       sum(credited_uploaded), sum(credited_downloaded), sum(toUInt64(seedtime_seconds)), toUInt64(0)
FROM announces
WHERE {hours}
GROUP BY user_id
