-- Ghost leechers: peers that stay at their first `left` and report nothing
-- downloaded for hours while the swarm has seeders, and those that upload
-- while claiming to have nothing (impossible for an honest client).
SELECT
    user_id,
    toUInt64(countIf(stuck_hours >= 2 AND seeders > 0)) AS stuck,
    toUInt64(countIf(up > 0)) AS impossible_upload,
    toUInt64(sum(up)) AS uploaded,
    toUInt64(sum(left_max)) AS claimed_left,
    groupUniqArray(torrent_id) AS torrents
FROM (
    SELECT
        user_id,
        torrent_id,
        peer_id,
        max(left) AS left_max,
        min(left) AS left_min,
        max(downloaded) AS down_max,
        sum(delta_uploaded) AS up,
        max(seeders) AS seeders,
        (toUInt32(max(time)) - toUInt32(min(time))) / 3600 AS stuck_hours
    FROM announces
    WHERE time >= toDateTime(@from) AND time < toDateTime(@until)
      AND result = 'accepted' AND dual_stack_duplicate = 0
      AND user_id IN (SELECT user_id FROM user_hour WHERE hour >= toStartOfHour(toDateTime(@active_since)))
    GROUP BY user_id, torrent_id, peer_id
    HAVING left_min = left_max AND left_max > 0 AND down_max = 0
)
GROUP BY user_id
HAVING stuck >= @min_torrents OR impossible_upload > 0
