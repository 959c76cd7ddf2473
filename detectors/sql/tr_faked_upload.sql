-- Faked-upload triggers (incremental passes): members with a new announce
-- (@from = the last pass) whose upload alone could fire a strong signal —
-- an impossible rate (the declared-seedbox allowance is applied later), or
-- a delta above @jump_multiple × the torrent's size (unknown size: at least
-- @min_rate_bytes). Collusion, conservation and fingerprint triggers come
-- from their own queries.
SELECT DISTINCT user_id
FROM (
    SELECT user_id, torrent_id, delta_uploaded, seconds_since_previous
    FROM announces
    PREWHERE toStartOfHour(time) >= toStartOfHour(toDateTime(@from)) AND toStartOfHour(time) <= toDateTime(@until)
         AND time >= toDateTime(@from) AND time < toDateTime(@until)
    WHERE result = 'accepted' AND dual_stack_duplicate = 0 AND delta_uploaded > 0
) ANY LEFT JOIN (
    SELECT torrent_id, toUInt64(argMax(size, version)) AS size
    FROM detector_torrents
    GROUP BY torrent_id
) USING torrent_id
WHERE (seconds_since_previous >= 10 AND delta_uploaded >= @min_rate_bytes AND delta_uploaded / seconds_since_previous >= @max_rate)
   OR (size > 0 AND delta_uploaded > @jump_multiple * size)
   OR (size = 0 AND delta_uploaded >= @min_rate_bytes)
