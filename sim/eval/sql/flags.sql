-- Cheat reports about the run's members; passkey subjects resolved to members.
SELECT r.detector, u.id, r.status
FROM cheat_reports r
JOIN users u ON (r.subject_kind = 'user' AND u.id::text = r.subject_id)
             OR (r.subject_kind = 'passkey' AND u.passkey = r.subject_id)
JOIN sim_runs s ON s.run = $1
WHERE starts_with(u.name, s.user_prefix)
ORDER BY r.detector, u.id
