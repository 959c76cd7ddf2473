-- Forget applied event ids older than the dedupe horizon (plus a margin for
-- clock skew between trackers and Postgres), a slice at a time.
DELETE FROM ledger_applied_events
WHERE event_id IN (
    SELECT event_id FROM ledger_applied_events
    WHERE applied_at < now() - make_interval(secs => $1)
    LIMIT 50000)
