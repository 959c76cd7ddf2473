INSERT IGNORE INTO ratioguard_writeback_offsets (consumer, topic, part, next_offset) VALUES (?, ?, ?, -1)
