-- Offline-download / cloud leech: per member, peer sessions (torrent ×
-- peer_id) completed and stopped within @max_seed_seconds with no announce
-- after, against all completed sessions, with the raw transfer totals and
-- the fastest download.
SELECT
    user_id,
    toUInt64(countIf(completed_at > 0)) AS completed,
    toUInt64(countIf(completed_at > 0 AND stopped_at >= completed_at AND stopped_at - completed_at <= @max_seed_seconds AND last_at <= stopped_at)) AS dumped,
    toUInt64(sum(up)) AS uploaded,
    toUInt64(sum(down)) AS downloaded,
    toFloat64(max(max_down_rate)) AS max_down_rate,
    groupUniqArray(network) AS networks
FROM (
    SELECT
        user_id,
        torrent_id,
        any(network) AS network,
        toUInt32(maxIf(time, event = 'completed')) AS completed_at,
        toUInt32(maxIf(time, event = 'stopped')) AS stopped_at,
        toUInt32(max(time)) AS last_at,
        sum(delta_uploaded) AS up,
        sum(delta_downloaded) AS down,
        max(if(seconds_since_previous > 0, delta_downloaded / seconds_since_previous, 0)) AS max_down_rate
    FROM announces
    WHERE toStartOfHour(time) >= toStartOfHour(toDateTime(@from)) AND toStartOfHour(time) <= toDateTime(@until)
      AND time >= toDateTime(@from) AND time < toDateTime(@until)
      AND result = 'accepted' AND dual_stack_duplicate = 0
      AND user_id IN @active_users
    GROUP BY user_id, torrent_id, peer_id
)
GROUP BY user_id
HAVING dumped >= @min_torrents
