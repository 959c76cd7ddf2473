-- Hours (from @from on; 0 = all) in which a rollup does not hold exactly one
-- counted announce per raw row (torrent_hour: per accepted raw row), with the
-- rollup partition of each hour. The raw table is read through its
-- time-first key, the rollups through their hourly partitions.
SELECT
    hour,
    any(toYYYYMMDD(hour) * 100 + toHour(hour)) AS part,
    sum(raw) AS raw_rows,
    sum(accepted) AS raw_accepted,
    sum(uh) AS user_hour,
    sum(th) AS torrent_hour,
    sum(unh) AS user_network_hour
FROM
(
    SELECT toStartOfHour(time) AS hour, toUInt64(count()) AS raw, toUInt64(countIf(result = 'accepted')) AS accepted,
           toUInt64(0) AS uh, toUInt64(0) AS th, toUInt64(0) AS unh
    FROM announces
    WHERE toStartOfHour(time) >= toDateTime(@from)
    GROUP BY hour
    UNION ALL
    SELECT hour, toUInt64(0), toUInt64(0), toUInt64(countMerge(announces)), toUInt64(0), toUInt64(0)
    FROM user_hour WHERE hour >= toDateTime(@from) GROUP BY hour
    UNION ALL
    SELECT hour, toUInt64(0), toUInt64(0), toUInt64(0), toUInt64(countMerge(announces)), toUInt64(0)
    FROM torrent_hour WHERE hour >= toDateTime(@from) GROUP BY hour
    UNION ALL
    SELECT hour, toUInt64(0), toUInt64(0), toUInt64(0), toUInt64(0), toUInt64(countMerge(announces))
    FROM user_network_hour WHERE hour >= toDateTime(@from) GROUP BY hour
)
GROUP BY hour
HAVING raw_rows != user_hour OR raw_accepted != torrent_hour OR raw_rows != user_network_hour
ORDER BY hour
