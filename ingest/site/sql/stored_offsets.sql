-- (partition, next offset) of every partition of a topic the write-back of
-- one site has stored.
SELECT part, next_offset FROM ratioguard_writeback_offsets WHERE consumer = ? AND topic = ?
