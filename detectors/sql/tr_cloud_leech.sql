-- Cloud-leech triggers (incremental passes): members with a peer session
-- stopped since the last pass (@active_since) within @max_seed_seconds of
-- completing (@from = @active_since − @max_seed_seconds, so the completion
-- is in the rows read), accepted or refused by the client rules; and members
-- with a new announce of an offline-download client (@offline_clients),
-- refused or not.
SELECT DISTINCT user_id
FROM (
    SELECT user_id, toUInt32(maxIf(time, event = 'completed')) AS completed_at, toUInt32(maxIf(time, event = 'stopped')) AS stopped_at
    FROM announces
    PREWHERE toStartOfHour(time) >= toStartOfHour(toDateTime(@from)) AND toStartOfHour(time) <= toDateTime(@until)
         AND time >= toDateTime(@from) AND time < toDateTime(@until)
    WHERE (result = 'accepted' OR refusal = 'client_banned') AND dual_stack_duplicate = 0 AND event IN ('completed', 'stopped')
    GROUP BY user_id, torrent_id, peer_id
    HAVING completed_at > 0 AND stopped_at >= completed_at AND stopped_at - completed_at <= @max_seed_seconds
       AND stopped_at >= @active_since
    UNION ALL
    SELECT user_id, toUInt32(0) AS completed_at, toUInt32(0) AS stopped_at
    FROM announces
    PREWHERE toStartOfHour(time) >= toStartOfHour(toDateTime(@active_since)) AND toStartOfHour(time) <= toDateTime(@until)
         AND time >= toDateTime(@active_since) AND time < toDateTime(@until)
    WHERE hasAny(@offline_clients, [substring(peer_id, 1, 2), substring(peer_id, 1, 3), substring(peer_id, 1, 4), substring(peer_id, 1, 5),
        substring(peer_id, 1, 6), substring(peer_id, 1, 7), substring(peer_id, 1, 8)])
)
