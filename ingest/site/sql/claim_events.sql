-- Returns the ids that were not applied before (the others are duplicates).
INSERT IGNORE INTO ratioguard_writeback_events (event_id, applied_at) VALUES {{values}} RETURNING event_id
