-- Months (YYYYMM) in which a table fed by a materialized view on `announces`
-- does not hold one row (or one counted announce) per raw row: the trace of
-- a ClickHouse server crash between the raw part and a view's part of one
-- INSERT. The loader never causes it otherwise (see docs/ARCHITECTURE.md).
SELECT month
FROM
(
    SELECT toYYYYMM(time) AS month, toInt64(count()) AS n, toInt64(0) AS ids, toInt64(0) AS bt,
           toInt64(0) AS uh, toInt64(0) AS unh, toInt64(countIf(result = 'accepted')) AS acc, toInt64(0) AS th
    FROM announces GROUP BY month
    UNION ALL
    SELECT toYYYYMM(time), toInt64(0), toInt64(count()), toInt64(0), toInt64(0), toInt64(0), toInt64(0), toInt64(0) FROM announce_ids GROUP BY toYYYYMM(time)
    UNION ALL
    SELECT toYYYYMM(time), toInt64(0), toInt64(0), toInt64(count()), toInt64(0), toInt64(0), toInt64(0), toInt64(0) FROM announces_by_torrent GROUP BY toYYYYMM(time)
    UNION ALL
    SELECT toYYYYMM(hour), toInt64(0), toInt64(0), toInt64(0), toInt64(countMerge(announces)), toInt64(0), toInt64(0), toInt64(0) FROM user_hour GROUP BY toYYYYMM(hour)
    UNION ALL
    SELECT toYYYYMM(hour), toInt64(0), toInt64(0), toInt64(0), toInt64(0), toInt64(countMerge(announces)), toInt64(0), toInt64(0) FROM user_network_hour GROUP BY toYYYYMM(hour)
    UNION ALL
    SELECT toYYYYMM(hour), toInt64(0), toInt64(0), toInt64(0), toInt64(0), toInt64(0), toInt64(0), toInt64(countMerge(announces)) FROM torrent_hour GROUP BY toYYYYMM(hour)
)
GROUP BY month
HAVING sum(n) != sum(ids) OR sum(n) != sum(bt) OR sum(n) != sum(uh) OR sum(n) != sum(unh) OR sum(acc) != sum(th)
ORDER BY month
