-- When the consumer's latest offset of a partition was stored (0: never).
SELECT toUInt32(argMax(updated_at, next_offset))
FROM ingest_offsets
WHERE consumer = ? AND topic = ? AND partition = ?
