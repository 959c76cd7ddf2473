-- Swarm balance's kept rows (balance.go): the announces per @bucket seconds
-- from @from to @until, every row counted (a late row anywhere in a bucket
-- changes its count, so the bucket's kept rows are read again).
SELECT
    toUInt32(intDiv(toUInt32(time), @bucket) * @bucket) AS bucket,
    count() AS n
FROM announces
PREWHERE toStartOfHour(time) >= toStartOfHour(toDateTime(@from)) AND toStartOfHour(time) <= toDateTime(@until)
    AND time >= toDateTime(@from) AND time < toDateTime(@until)
GROUP BY bucket
