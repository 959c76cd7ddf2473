SELECT t.id, t.staff_id, s.name, t.name, t.scopes, t.created_at, t.expires_at, t.last_used_at, t.revoked_at
FROM staff_api_tokens t JOIN staff s ON s.id = t.staff_id
ORDER BY t.revoked_at IS NOT NULL, t.created_at DESC
LIMIT 500
