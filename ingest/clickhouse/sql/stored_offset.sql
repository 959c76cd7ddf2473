SELECT count(), max(next_offset)
FROM ingest_offsets
WHERE consumer = ? AND topic = ? AND partition = ?
