-- Of the torrents in @torrents, those a member in @active_list uploaded on
-- from @from to @until (accepted or refused): fu_collusion's torrent filter
-- of an incremental pass (query.go, @torrent_filter), asked of the torrents
-- collusion.go cannot settle without it.
SELECT DISTINCT torrent_id
FROM announces
PREWHERE toStartOfHour(time) >= toStartOfHour(toDateTime(@from)) AND toStartOfHour(time) <= toDateTime(@until)
    AND time >= toDateTime(@from) AND time < toDateTime(@until)
    AND torrent_id IN (SELECT toUInt64(arrayJoin(@torrents)))
WHERE user_id IN (SELECT toUInt64(arrayJoin(@active_list))) AND delta_uploaded > 0
