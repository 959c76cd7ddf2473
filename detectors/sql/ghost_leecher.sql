-- Ghost leechers, per member over the window, from the peer sessions
-- (torrent × peer_id, accepted announces) that never reported a downloaded
-- byte and still had pieces to get:
--   held: leecher slots held for at least @min_hold seconds at the torrent's
--     full size (`left` never moved; size unknown: left never moved), never
--     completing, in a swarm the tracker answered with seeders in at least
--     @min_seeded_share of the announces — with a seeder there, an honest
--     client gets bytes within minutes; a slot in a seedless swarm is not one
--     (honest leechers wait on dead swarms for days);
--   stuck: the same for ≥ 2 h with a seeder at some point (supporting only);
--   impossible upload: uploading while claiming to hold no piece;
--   blind completion: left goes from > 0 to 0 with nothing downloaded.
-- The held slots' first and last announces go back too, for the peak of
-- slots held at once.
SELECT
    user_id,
    toUInt64(countIf(stuck_hours >= 2 AND seeders_max > 0 AND left_min = left_max)) AS stuck,
    toUInt64(countIf(up_left > 0 AND if(size > 0, up_left >= size, left_min = left_max))) AS impossible_upload,
    toUInt64(countIf(left_min = 0)) AS blind_completions,
    toUInt64(countIf(left_min = left_max AND completions = 0 AND (size = 0 OR left_max >= size)
        AND last_at - first_at >= @min_hold AND seeded_share >= @min_seeded_share)) AS held,
    groupArrayIf(first_at, left_min = left_max AND completions = 0 AND (size = 0 OR left_max >= size)
        AND last_at - first_at >= @min_hold AND seeded_share >= @min_seeded_share) AS held_from,
    groupArrayIf(last_at, left_min = left_max AND completions = 0 AND (size = 0 OR left_max >= size)
        AND last_at - first_at >= @min_hold AND seeded_share >= @min_seeded_share) AS held_until,
    groupArrayIf(torrent_id, left_min = left_max AND completions = 0 AND (size = 0 OR left_max >= size)
        AND last_at - first_at >= @min_hold AND seeded_share >= @min_seeded_share) AS held_torrents,
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
        max(seeders) AS seeders_max,
        countIf(seeders > 0 AND event != 'stopped') / greatest(countIf(event != 'stopped'), 1) AS seeded_share,
        countIf(event = 'completed') AS completions,
        toUInt32(min(time)) AS first_at,
        toUInt32(max(time)) AS last_at,
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
HAVING stuck >= @min_torrents OR impossible_upload > 0 OR blind_completions > 0 OR held > 0
