-- Collusion's torrent-hours, for the pairs collusion.go adds up itself in
-- incremental passes: per clock hour (unix seconds) and torrent, those where
-- exactly one member uploaded and exactly one other member downloaded
-- (fu_collusion's inner query), with the bytes uploaded, from @from to
-- @until, leaving out the hours in @kept_hours ([0]: none), whose
-- torrent-hours collusion.go kept from its previous read.
SELECT toUInt32(h) AS hour, torrent_id, ups[1] AS up_user, downs[1] AS down_user, toUInt64(b) AS bytes
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
         AND toUInt32(toStartOfHour(time)) NOT IN (SELECT toUInt32(arrayJoin(@kept_hours)))
    WHERE result = 'accepted' AND (delta_uploaded > 0 OR delta_downloaded > 0)
    GROUP BY torrent_id, h
    HAVING length(ups) = 1 AND length(downs) = 1 AND ups[1] != downs[1]
)
