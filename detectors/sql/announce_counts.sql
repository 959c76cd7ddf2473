-- The announces per @bucket seconds from @from to @until, every row counted
-- (a late row anywhere in a bucket changes its count). The state detectors
-- keep between passes — swarm balance's peer rows (balance.go), the
-- fingerprint population (fingerprint.go), collusion's torrent-hours
-- (collusion.go) — is reused for a bucket only while its count stands, so
-- a bucket where rows landed late is read again.
SELECT
    toUInt32(intDiv(toUInt32(time), @bucket) * @bucket) AS bucket,
    count() AS n
FROM announces
PREWHERE toStartOfHour(time) >= toStartOfHour(toDateTime(@from)) AND toStartOfHour(time) <= toDateTime(@until)
    AND time >= toDateTime(@from) AND time < toDateTime(@until)
GROUP BY bucket
