-- INSERT ... SELECT, not VALUES: clickhouse-go v2 Exec of INSERT ... VALUES
-- with bound arguments waits for a data block that never comes on 18.16.
INSERT INTO ingest_offsets (consumer, topic, partition, next_offset, rows, updated_at)
SELECT ?, ?, toUInt32(?), toUInt64(?), toUInt64(?), now()
