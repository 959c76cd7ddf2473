UPDATE staff n SET disabled = $2
FROM staff o
WHERE n.id = $1 AND o.id = n.id
RETURNING n.id, n.name, n.role, n.disabled, n.created_at, o.disabled
