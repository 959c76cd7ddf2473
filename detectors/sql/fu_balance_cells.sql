-- Swarm balance cells (balance.go): per @bucket seconds, torrent and member,
-- the raw upload and download announced (accepted rows; dual-stack
-- duplicates carry no delta), each delta spread over the interval it covers
-- (seconds_since_previous, up to 3 h) so a transfer that straddles a bucket
-- boundary counts on both sides as it happened; and the content acquired as
-- the fall of `left` within the bucket — per peer, summed, and over the
-- member's peers together — from accepted and refused rows alike (a refused
-- client still downloads from the swarm). Buckets that start before @from
-- are left out (their first part was not read). max_left stands in for the
-- size of a torrent Postgres does not know.
SELECT
    bucket,
    torrent_id,
    user_id,
    toFloat64(sum(up)) AS up,
    toFloat64(sum(dn)) AS down,
    toFloat64(sum(hi - lo)) AS acq_peers,
    toFloat64(max(hi) - min(lo)) AS acq_member,
    toFloat64(max(hi)) AS max_left
FROM (
    SELECT
        bucket,
        torrent_id,
        user_id,
        peer_id,
        sum(part * delta_uploaded) AS up,
        sum(part * delta_downloaded) AS dn,
        maxIf(left, side = 0) AS hi,
        minIf(left, side = 0) AS lo
    FROM (
        SELECT
            torrent_id,
            user_id,
            peer_id,
            left,
            if(result = 'accepted', delta_uploaded, 0) AS delta_uploaded,
            if(result = 'accepted', delta_downloaded, 0) AS delta_downloaded,
            intDiv(toUInt32(time), @bucket) * @bucket AS start,
            toUInt32(time) - start AS into,
            if(seconds_since_previous > into AND seconds_since_previous <= 10800,
               (seconds_since_previous - into) / seconds_since_previous, 0) AS before,
            arrayJoin([0, 1]) AS side,
            if(side = 0, 1 - before, before) AS part,
            toUInt32(start - side * @bucket) AS bucket
        FROM announces
        PREWHERE toStartOfHour(time) >= toStartOfHour(toDateTime(@from)) AND toStartOfHour(time) <= toDateTime(@until)
            AND time >= toDateTime(@from) AND time < toDateTime(@until)
        WHERE user_id > 0 AND torrent_id > 0
    )
    WHERE (side = 0 OR part > 0) AND bucket >= @from
    GROUP BY bucket, torrent_id, user_id, peer_id
)
GROUP BY bucket, torrent_id, user_id
HAVING up > 0 OR down > 0 OR acq_member > 0 OR acq_peers > 0
