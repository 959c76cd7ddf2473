-- The materialized views reading `announces` in this database, with their
-- definitions (CREATE MATERIALIZED VIEW db.v TO db.target (cols) AS SELECT ...).
SELECT name, create_table_query
FROM system.tables
WHERE database = currentDatabase()
  AND name IN (SELECT arrayJoin(dependencies_table) FROM system.tables
               WHERE database = currentDatabase() AND name = 'announces')
ORDER BY name
