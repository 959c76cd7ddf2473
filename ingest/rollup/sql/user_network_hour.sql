-- One hour of user_network_hour, from the raw rows of that hour.
SELECT user_id,
       network,
       toStartOfHour(time) AS hour,
       countState() AS announces,
       sumState(delta_uploaded) AS delta_uploaded,
       sumState(delta_downloaded) AS delta_downloaded
FROM announces
WHERE toStartOfHour(time) = toDateTime(@hour)
GROUP BY user_id, network, hour
