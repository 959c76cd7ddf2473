-- Who a live API token acts for, and its scopes; marks it used.
UPDATE staff_api_tokens t SET last_used_at = now()
FROM staff s
WHERE t.token_hash = $1 AND s.id = t.staff_id AND NOT s.disabled AND t.revoked_at IS NULL
  AND (t.expires_at IS NULL OR t.expires_at > now())
RETURNING s.id, s.name, s.role, t.scopes
