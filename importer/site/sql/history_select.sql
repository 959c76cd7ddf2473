-- The site records of members $1: whether the import keeps one, the opening
-- last written (revision 0: none), the announces ratioguard had credited the
-- member when the record was last written and has credited now.
SELECT x.id, h.user_id IS NOT NULL,
       COALESCE(h.opening_uploaded, 0)::bigint, COALESCE(h.opening_downloaded, 0)::bigint,
       COALESCE(h.opening_seedtime, 0), COALESCE(h.opening_bonus, 0)::float8,
       CASE WHEN h.opening_at IS NULL THEN 0 ELSE h.opening_revision END,
       COALESCE(h.record_announces, 0), COALESCE(t.announces, 0)
FROM unnest($1::bigint[]) AS x (id)
LEFT JOIN ledger_site_history h ON h.user_id = x.id
LEFT JOIN ledger_user_totals t ON t.user_id = x.id
