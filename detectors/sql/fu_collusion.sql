-- Collusion: torrent-hours where exactly one member uploaded and exactly one
-- other member downloaded, counted per (uploader, downloader) pair, with the
-- uploader's whole upload in the window (user_hour rollup) to compare
-- against. Reads the window's hours of the time-first `announces` (in an
-- incremental pass only the torrents its subjects uploaded on: see
-- @torrent_filter in query.go); dual-stack duplicates carry no delta.
SELECT
    p.up_user AS up_user,
    p.down_user AS down_user,
    p.torrents AS torrents,
    p.bytes AS bytes,
    toUInt64(tot.total_up) AS total_up
FROM (
    SELECT ups[1] AS up_user, downs[1] AS down_user, toUInt64(uniqExact(torrent_id)) AS torrents, toUInt64(sum(b)) AS bytes
    FROM (
        SELECT
            torrent_id,
            toStartOfHour(time) AS h,
            groupUniqArrayIf(user_id, delta_uploaded > 0) AS ups,
            groupUniqArrayIf(user_id, delta_downloaded > 0) AS downs,
            sum(delta_uploaded) AS b
        FROM announces
        PREWHERE toStartOfHour(time) >= toStartOfHour(toDateTime(@from)) AND toStartOfHour(time) <= toDateTime(@until)
             AND time >= toDateTime(@from) AND time < toDateTime(@until)
        WHERE result = 'accepted' AND (delta_uploaded > 0 OR delta_downloaded > 0) AND @torrent_filter
        GROUP BY torrent_id, h
        HAVING length(ups) = 1 AND length(downs) = 1 AND ups[1] != downs[1]
    )
    GROUP BY up_user, down_user
    HAVING torrents >= @min_torrents
) AS p
ANY LEFT JOIN (
    SELECT user_id AS up_user, sumMerge(delta_uploaded) AS total_up
    FROM user_hour
    WHERE hour >= toStartOfHour(toDateTime(@from)) AND hour < toDateTime(@until)
    GROUP BY user_id
) AS tot USING up_user
