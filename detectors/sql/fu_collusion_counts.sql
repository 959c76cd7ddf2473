-- Collusion's kept torrent-hours (collusion.go): the announces per clock
-- hour (unix seconds, as fu_collusion_hours groups them) from @from to
-- @until, every row counted (a late row anywhere in an hour changes its
-- count, so the hour is read again).
SELECT toUInt32(toStartOfHour(time)) AS bucket, count() AS n
FROM announces
PREWHERE toStartOfHour(time) >= toStartOfHour(toDateTime(@from)) AND toStartOfHour(time) <= toDateTime(@until)
    AND time >= toDateTime(@from) AND time < toDateTime(@until)
GROUP BY bucket
