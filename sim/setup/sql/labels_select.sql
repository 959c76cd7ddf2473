-- Labels of a run with each member's name and passkey.
SELECT r.members, l.user_id, u.passkey, u.name, l.role, l.kind, l.started_at, COALESCE(l.partner_id, 0)
FROM sim_runs r
LEFT JOIN sim_labels l ON l.run = r.run
LEFT JOIN users u ON u.id = l.user_id
WHERE r.run = $1
ORDER BY l.user_id, l.kind
