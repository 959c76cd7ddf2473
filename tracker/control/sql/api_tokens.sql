SELECT id, name, token_sha256, scopes FROM api_tokens WHERE revoked_at IS NULL
