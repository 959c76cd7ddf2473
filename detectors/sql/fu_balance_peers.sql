-- Swarm balance, per peer (balance.go): per @bucket seconds, torrent, member
-- and peer (a hash of its peer_id), the raw upload and download announced
-- (accepted rows; dual-stack duplicates carry no delta) and the peer's
-- `left` — highest, lowest, first and last with their times — from accepted
-- and refused rows alike (a refused client still downloads from the swarm).
-- balance.go turns the falls of `left` into content acquired, including the
-- fall between a peer's last announce of one bucket and its first of the
-- next. A delta covers the interval since the peer's previous announce
-- (seconds_since_previous, up to 3 h): the part of it before the bucket's
-- start is returned apart (up_before, down_before) and belongs to the bucket
-- before; balance.go may share the upload of the peer's first row (first_up,
-- over first_secs) by the swarm's downloads instead (fu_balance_profile.sql).
-- Rows come ordered by torrent, member, peer and bucket. The rows
-- from @skip_from to @skip_until (buckets whose rows balance.go kept from an
-- earlier fit; both 0: none) are left out.
SELECT
    bucket,
    torrent_id,
    user_id,
    cityHash64(peer_id) AS peer,
    toFloat64(sumIf((1 - before) * delta_uploaded, accepted)) AS up,
    toFloat64(sumIf((1 - before) * delta_downloaded, accepted)) AS down,
    toFloat64(sumIf(before * delta_uploaded, accepted)) AS up_before,
    toFloat64(sumIf(before * delta_downloaded, accepted)) AS down_before,
    toFloat64(max(left)) AS hi,
    toFloat64(min(left)) AS lo,
    toFloat64(argMin(left, time_ms)) AS first_left,
    toFloat64(argMax(left, time_ms)) AS last_left,
    min(toUInt32(time)) AS first_at,
    max(toUInt32(time)) AS last_at,
    toFloat64(argMin(if(accepted, delta_uploaded, 0), time_ms)) AS first_up,
    argMin(seconds_since_previous, time_ms) AS first_secs
FROM (
    SELECT
        toUInt32(intDiv(toUInt32(time), @bucket) * @bucket) AS bucket,
        torrent_id,
        user_id,
        peer_id,
        time,
        time_ms,
        left,
        delta_uploaded,
        delta_downloaded,
        seconds_since_previous,
        result = 'accepted' AS accepted,
        toUInt32(time) - bucket AS into,
        if(seconds_since_previous > into AND seconds_since_previous <= 10800,
           (seconds_since_previous - into) / seconds_since_previous, 0) AS before
    FROM announces
    PREWHERE toStartOfHour(time) >= toStartOfHour(toDateTime(@from)) AND toStartOfHour(time) <= toDateTime(@until)
        AND time >= toDateTime(@from) AND time < toDateTime(@until)
        AND NOT (time >= toDateTime(@skip_from) AND time < toDateTime(@skip_until))
    WHERE user_id > 0 AND torrent_id > 0
)
GROUP BY bucket, torrent_id, user_id, peer
ORDER BY torrent_id, user_id, peer, bucket
