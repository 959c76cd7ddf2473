-- Ratio watch: members below their required ratio, soonest end first.
SELECT w.user_id, u.name, w.state, w.started_at, w.ends_at, w.required_ratio,
       CASE WHEN COALESCE(t.credited_downloaded, 0) > 0 THEN (t.credited_uploaded / t.credited_downloaded)::float8 END,
       COALESCE(t.credited_downloaded, 0) - w.downloaded_at_start, COALESCE(w.disabled_cause, '')
FROM enforce_ratio_watch w
JOIN users u ON u.id = w.user_id
LEFT JOIN ledger_user_totals t ON t.user_id = w.user_id
ORDER BY w.ends_at, u.name
LIMIT 1000
