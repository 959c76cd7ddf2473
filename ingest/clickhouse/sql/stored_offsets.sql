SELECT partition, max(next_offset)
FROM ingest_offsets
WHERE consumer = 'clickhouse' AND topic = ?
GROUP BY partition
