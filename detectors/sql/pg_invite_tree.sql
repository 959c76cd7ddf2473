SELECT u.invited_by, count(DISTINCT u.id), array_agg(DISTINCT u.id ORDER BY u.id)
FROM users u
JOIN cheat_reports r ON r.subject_kind = 'user' AND r.subject_id = u.id::text
WHERE u.invited_by IS NOT NULL
  AND r.detector = ANY($1) AND r.status IN ('open', 'confirmed')
GROUP BY u.invited_by
HAVING count(DISTINCT u.id) >= $2
