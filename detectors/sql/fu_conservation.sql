-- Swarm conservation, raw side, for the candidate torrents (@torrents, from
-- fu_cons_candidates; only the window's hours of the time-first `announces`
-- are read): each uploader's raw upload in the window, with
-- the torrent's Σcorrupt (corrupt is a per-peer counter, so its growth per
-- peer is summed). Dual-stack duplicates carry no delta.
SELECT
    u.torrent_id AS torrent_id,
    u.user_id AS user_id,
    u.up AS up,
    toUInt64(c.sum_corrupt) AS sum_corrupt
FROM (
    SELECT torrent_id, user_id, toUInt64(sum(delta_uploaded)) AS up
    FROM announces
    PREWHERE torrent_id IN (SELECT toUInt64(arrayJoin(@torrents)))
    WHERE toStartOfHour(time) >= toStartOfHour(toDateTime(@from)) AND toStartOfHour(time) <= toDateTime(@until)
      AND time >= toDateTime(@from) AND time < toDateTime(@until) AND result = 'accepted' AND delta_uploaded > 0
    GROUP BY torrent_id, user_id
) AS u
ANY LEFT JOIN (
    SELECT torrent_id, toUInt64(sum(peer_corrupt)) AS sum_corrupt
    FROM (
        SELECT torrent_id, max(corrupt) - min(corrupt) AS peer_corrupt
        FROM announces
        PREWHERE torrent_id IN (SELECT toUInt64(arrayJoin(@torrents)))
        WHERE toStartOfHour(time) >= toStartOfHour(toDateTime(@from)) AND toStartOfHour(time) <= toDateTime(@until)
          AND time >= toDateTime(@from) AND time < toDateTime(@until) AND result = 'accepted'
        GROUP BY torrent_id, user_id, peer_id
    )
    GROUP BY torrent_id
) AS c USING torrent_id
