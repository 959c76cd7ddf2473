-- The active parts of `announces` in month @month written (inserted, merged
-- or mutated) at or after @since (unix seconds): every row inserted since
-- then is in one of them.
SELECT name
FROM system.parts
WHERE database = currentDatabase() AND table = 'announces' AND active
  AND partition_id = toString(@month) AND modification_time >= toDateTime(@since)
ORDER BY name
