-- Swarm balance cells (balance.go): per @bucket seconds, torrent and member,
-- the raw upload and download announced (accepted rows; dual-stack
-- duplicates carry no delta), and the content acquired as the fall of
-- `left` within the bucket — per peer, summed, and over the member's peers
-- together — from accepted and refused rows alike (a refused client still
-- downloads from the swarm). A delta covers the interval since the peer's
-- previous announce (seconds_since_previous, up to 3 h): the part of it
-- before the bucket's start is returned apart (up_before, down_before) and
-- belongs to the bucket before. max_left stands in for the size of a
-- torrent Postgres does not know.
SELECT
    bucket,
    torrent_id,
    user_id,
    toFloat64(sum(up)) AS up,
    toFloat64(sum(dn)) AS down,
    toFloat64(sum(up_b)) AS up_before,
    toFloat64(sum(dn_b)) AS down_before,
    toFloat64(sum(hi - lo)) AS acq_peers,
    toFloat64(max(hi) - min(lo)) AS acq_member,
    toFloat64(max(hi)) AS max_left
FROM (
    SELECT
        bucket,
        torrent_id,
        user_id,
        peer_id,
        sumIf((1 - before) * delta_uploaded, accepted) AS up,
        sumIf((1 - before) * delta_downloaded, accepted) AS dn,
        sumIf(before * delta_uploaded, accepted) AS up_b,
        sumIf(before * delta_downloaded, accepted) AS dn_b,
        max(left) AS hi,
        min(left) AS lo
    FROM (
        SELECT
            toUInt32(intDiv(toUInt32(time), @bucket) * @bucket) AS bucket,
            torrent_id,
            user_id,
            peer_id,
            left,
            delta_uploaded,
            delta_downloaded,
            result = 'accepted' AS accepted,
            toUInt32(time) - bucket AS into,
            if(seconds_since_previous > into AND seconds_since_previous <= 10800,
               (seconds_since_previous - into) / seconds_since_previous, 0) AS before
        FROM announces
        PREWHERE toStartOfHour(time) >= toStartOfHour(toDateTime(@from)) AND toStartOfHour(time) <= toDateTime(@until)
            AND time >= toDateTime(@from) AND time < toDateTime(@until)
        WHERE user_id > 0 AND torrent_id > 0
    )
    GROUP BY bucket, torrent_id, user_id, peer_id
)
GROUP BY bucket, torrent_id, user_id
