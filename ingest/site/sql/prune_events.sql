DELETE FROM ratioguard_writeback_events WHERE applied_at < ? LIMIT 10000
