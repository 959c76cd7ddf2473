SELECT n.id, s.name, n.body, n.created_at
FROM staff_notes n JOIN staff s ON s.id = n.staff_id
WHERE n.user_id = $1
ORDER BY n.created_at DESC, n.id DESC
LIMIT 200
