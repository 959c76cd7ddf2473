SELECT u.id, u.name, u.class, u.enabled, COALESCE(u.disabled_reason, ''), u.can_leech, u.passkey, u.created_at,
       COALESCE(t.raw_uploaded, 0)::text, COALESCE(t.raw_downloaded, 0)::text,
       COALESCE(t.credited_uploaded, 0)::text, COALESCE(t.credited_downloaded, 0)::text,
       COALESCE(t.seedtime_seconds, 0), COALESCE(t.bonus_points, 0)::text,
       CASE WHEN COALESCE(t.raw_downloaded, 0) > 0 THEN (t.raw_uploaded / t.raw_downloaded)::float8 END,
       CASE WHEN COALESCE(t.credited_downloaded, 0) > 0 THEN (t.credited_uploaded / t.credited_downloaded)::float8 END,
       u.invited_by
FROM users u
LEFT JOIN ledger_user_totals t ON t.user_id = u.id
WHERE u.id = $1
