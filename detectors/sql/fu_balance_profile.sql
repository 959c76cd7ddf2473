-- Swarm balance's download profile (balance.go): every accepted announce
-- that carries downloaded bytes, with the interval its delta covers
-- (seconds_since_previous, up to 3 h), from @from to @until, ordered by
-- torrent and time: when each swarm's leechers took their bytes, which
-- decides how an upload delta that straddles a bucket boundary is shared
-- between the two buckets. The rows from @skip_from to @skip_until (kept
-- from an earlier fit; both 0: none) are left out.
SELECT
    torrent_id,
    toUInt32(time) AS at,
    seconds_since_previous AS secs,
    toFloat64(delta_downloaded) AS down
FROM announces
PREWHERE toStartOfHour(time) >= toStartOfHour(toDateTime(@from)) AND toStartOfHour(time) <= toDateTime(@until)
    AND time >= toDateTime(@from) AND time < toDateTime(@until)
    AND NOT (time >= toDateTime(@skip_from) AND time < toDateTime(@skip_until))
WHERE user_id > 0 AND torrent_id > 0 AND result = 'accepted' AND delta_downloaded > 0
    AND seconds_since_previous > 0 AND seconds_since_previous <= 10800
ORDER BY torrent_id, at
