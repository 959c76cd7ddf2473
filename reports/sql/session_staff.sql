SELECT s.id, s.name, s.role
FROM staff_sessions ss
JOIN staff s ON s.id = ss.staff_id
WHERE ss.token_hash = $1 AND ss.expires_at > now() AND NOT s.disabled
