-- Members by id, by exact passkey, or by name prefix (case-insensitive;
-- $3 has LIKE's wildcards escaped), with their standing.
SELECT u.id, u.name, u.class, u.enabled, u.can_leech,
       CASE WHEN COALESCE(t.credited_downloaded, 0) > 0 THEN (t.credited_uploaded / t.credited_downloaded)::float8 END,
       (SELECT count(*) FROM cheat_reports r WHERE r.status = 'open' AND r.subject_kind = 'user' AND r.subject_id = u.id::text)
FROM users u
LEFT JOIN ledger_user_totals t ON t.user_id = u.id
WHERE u.id = $1 OR u.passkey = $2 OR ($3 <> '' AND lower(u.name) LIKE lower($3) || '%')
ORDER BY u.id = $1 DESC, u.passkey = $2 DESC, length(u.name), u.name
LIMIT 50
