-- Months (YYYYMM) in which announce_ids does not hold one row per raw row
-- of `announces` (the active parts' row counts: instant). The view writes
-- the ids in the same INSERT as the raw rows, so outside an INSERT in flight
-- only a ClickHouse server crash between the raw part and the ids part
-- leaves such a month (see docs/ARCHITECTURE.md).
SELECT toUInt32(partition_id) AS month
FROM system.parts
WHERE database = currentDatabase() AND active AND table IN ('announces', 'announce_ids')
GROUP BY month
HAVING sumIf(rows, table = 'announces') != sumIf(rows, table = 'announce_ids')
ORDER BY month
