-- Staging tables a builder left behind (it crashed before dropping them),
-- older than @older_than seconds: another builder may still be using a
-- younger one.
SELECT name
FROM system.tables
WHERE database = currentDatabase()
  AND name LIKE 'rollup\_build\_%'
  AND metadata_modification_time < now() - @older_than
