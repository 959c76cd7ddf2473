-- Confirmed cheat reports with a verdict not yet carried out, and the member
-- each one is about (NULL when it cannot be resolved).
SELECT r.id, r.detector, r.subject_kind, r.subject_id, r.verdict,
       r.reverse_uploaded::bigint, r.reverse_downloaded::bigint, COALESCE(r.enforce_error, ''),
       u.id, COALESCE(u.name, '')
FROM cheat_reports r
LEFT JOIN LATERAL (
    SELECT x.id, x.name FROM users x
    WHERE (r.subject_kind = 'user' AND x.id::text = r.subject_id)
       OR (r.subject_kind = 'passkey' AND x.passkey = r.subject_id)
       OR (r.evidence ->> 'user_id' ~ '^[0-9]{1,18}$' AND x.id = (r.evidence ->> 'user_id')::bigint)
    ORDER BY (r.subject_kind = 'user' AND x.id::text = r.subject_id) DESC,
             (r.subject_kind = 'passkey' AND x.passkey = r.subject_id) DESC
    LIMIT 1) u ON TRUE
WHERE r.status = 'confirmed' AND r.enforced_at IS NULL AND cardinality(r.verdict) > 0
ORDER BY r.id
