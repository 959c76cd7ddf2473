SELECT s.id, s.name, s.role, s.disabled, s.created_at,
       (SELECT count(*) FROM staff_sessions ss WHERE ss.staff_id = s.id AND ss.expires_at > now())
FROM staff s
ORDER BY s.name
