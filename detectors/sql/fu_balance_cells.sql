-- Swarm balance cells (balance.go): per day, torrent and member, the raw
-- upload and download announced (accepted rows; dual-stack duplicates carry
-- no delta) and the content acquired as the fall of `left` — per peer,
-- summed, and over the member's peers together — from accepted and refused
-- rows alike (a refused client still downloads from the swarm). max_left
-- stands in for the size of a torrent Postgres does not know.
SELECT
    day,
    torrent_id,
    user_id,
    toFloat64(sum(up)) AS up,
    toFloat64(sum(dn)) AS down,
    toFloat64(sum(hi - lo)) AS acq_peers,
    toFloat64(max(hi) - min(lo)) AS acq_member,
    toFloat64(max(hi)) AS max_left
FROM (
    SELECT
        toUInt32(intDiv(toUInt32(time), 86400)) AS day,
        torrent_id,
        user_id,
        peer_id,
        sumIf(delta_uploaded, result = 'accepted') AS up,
        sumIf(delta_downloaded, result = 'accepted') AS dn,
        max(left) AS hi,
        min(left) AS lo
    FROM announces
    PREWHERE toStartOfHour(time) >= toStartOfHour(toDateTime(@from)) AND toStartOfHour(time) <= toDateTime(@until)
        AND time >= toDateTime(@from) AND time < toDateTime(@until)
    WHERE user_id > 0 AND torrent_id > 0
    GROUP BY day, torrent_id, user_id, peer_id
)
GROUP BY day, torrent_id, user_id
HAVING up > 0 OR down > 0 OR acq_member > 0 OR acq_peers > 0
