-- Collusion triggers (incremental passes): both members of torrent-hours
-- since the start of the last pass's hour (@from) with exactly one uploader
-- and one other downloader.
SELECT DISTINCT arrayJoin([ups[1], downs[1]]) AS user_id
FROM (
    SELECT
        groupUniqArrayIf(user_id, delta_uploaded > 0) AS ups,
        groupUniqArrayIf(user_id, delta_downloaded > 0) AS downs
    FROM announces
    PREWHERE toStartOfHour(time) >= toStartOfHour(toDateTime(@from)) AND toStartOfHour(time) <= toDateTime(@until)
         AND time >= toDateTime(@from) AND time < toDateTime(@until)
    WHERE result = 'accepted' AND (delta_uploaded > 0 OR delta_downloaded > 0)
    GROUP BY torrent_id, toStartOfHour(time)
    HAVING length(ups) = 1 AND length(downs) = 1 AND ups[1] != downs[1]
       AND max(time) >= toDateTime(@active_since)
)
