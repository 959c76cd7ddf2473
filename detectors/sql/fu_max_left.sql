-- The largest `left` reported for the given torrents (@torrents) in the
-- window by a peer that uploaded — what fu_peers' max_left gives a full
-- pass — their size when Postgres does not know it. An incremental pass
-- reads only its subjects' peers (seeders report left = 0), so it asks here.
SELECT torrent_id, toUInt64(max(peer_left)) AS max_left
FROM (
    SELECT torrent_id, max(left) AS peer_left, sum(delta_uploaded) AS up
    FROM announces
    PREWHERE torrent_id IN (SELECT toUInt64(arrayJoin(@torrents)))
    WHERE toStartOfHour(time) >= toStartOfHour(toDateTime(@from)) AND toStartOfHour(time) <= toDateTime(@until)
      AND time >= toDateTime(@from) AND time < toDateTime(@until) AND result = 'accepted' AND dual_stack_duplicate = 0
    GROUP BY torrent_id, user_id, peer_id
    HAVING up > 0
)
GROUP BY torrent_id
