-- Account selling: announces per hour of day (UTC) and per torrent size
-- band (log2 of the size) in the baseline (period 0) and recent (1) parts.
SELECT
    user_id,
    toUInt8(time >= toDateTime(@split)) AS period,
    toUInt8(toHour(time)) AS hod,
    toUInt8(if(max_left > 0, floor(log2(max_left)), 0)) AS band,
    toUInt64(count()) AS n
FROM (
    SELECT user_id, torrent_id, time, max_left
    FROM announces
    ANY LEFT JOIN (
        SELECT torrent_id, max(left) AS max_left
        FROM announces
        WHERE time >= toDateTime(@from) AND time < toDateTime(@until) AND has(@users, user_id)
        GROUP BY torrent_id
    ) USING torrent_id
    WHERE time >= toDateTime(@from) AND time < toDateTime(@until) AND result = 'accepted' AND has(@users, user_id)
)
GROUP BY user_id, period, hod, band
