-- Ghost leechers: peers that never report a downloaded byte yet leave their
-- `left` at the full size for hours in swarms with seeders (stuck), upload
-- while claiming to hold no piece (left = the torrent's size, downloaded 0;
-- size unknown: left never moved),
-- or go from left > 0 to 0 with nothing downloaded (a blind completion).
SELECT
    user_id,
    toUInt64(countIf(stuck_hours >= 2 AND seeders > 0 AND left_min = left_max)) AS stuck,
    toUInt64(countIf(up_left > 0 AND if(size > 0, up_left >= size, left_min = left_max))) AS impossible_upload,
    toUInt64(countIf(left_min = 0)) AS blind_completions,
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
        maxIf(left, delta_uploaded > 0) AS up_left,
        max(seeders) AS seeders,
        (toUInt32(max(time)) - toUInt32(min(time))) / 3600 AS stuck_hours
    FROM announces
    WHERE toStartOfHour(time) >= toStartOfHour(toDateTime(@from)) AND toStartOfHour(time) <= toDateTime(@until)
      AND time >= toDateTime(@from) AND time < toDateTime(@until)
      AND result = 'accepted' AND dual_stack_duplicate = 0
      AND user_id IN @active_users
    GROUP BY user_id, torrent_id, peer_id
    HAVING left_max > 0 AND down_max = 0
) ANY LEFT JOIN (
    SELECT torrent_id, toUInt64(argMax(size, version)) AS size
    FROM detector_torrents
    GROUP BY torrent_id
) USING torrent_id
GROUP BY user_id
HAVING stuck >= @min_torrents OR impossible_upload > 0 OR blind_completions > 0
