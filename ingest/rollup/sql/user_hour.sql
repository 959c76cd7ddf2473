-- One hour of user_hour, from the raw rows of that hour.
SELECT user_id,
       toStartOfHour(time) AS hour,
       countState() AS announces,
       sumState(toUInt64(result = 'refused')) AS refused,
       sumState(delta_uploaded) AS delta_uploaded,
       sumState(delta_downloaded) AS delta_downloaded,
       sumState(credited_uploaded) AS credited_uploaded,
       sumState(credited_downloaded) AS credited_downloaded,
       sumState(toUInt64(seedtime_seconds)) AS seedtime_seconds,
       uniqExactState(network) AS networks,
       uniqExactState(toString(user_agent)) AS user_agents
FROM announces
WHERE toStartOfHour(time) = toDateTime(@hour)
GROUP BY user_id, hour
