-- Claims event ids: returns those not applied before (the others are
-- duplicates: producer retries, spool replays, redelivered batches).
INSERT INTO ledger_applied_events (event_id)
SELECT unnest($1::bytea[])
ON CONFLICT (event_id) DO NOTHING
RETURNING event_id
