SELECT count()
FROM system.processes
WHERE substring(query_id, 1, length(?)) = ?
