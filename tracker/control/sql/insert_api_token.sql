INSERT INTO api_tokens (name, token_sha256, scopes) VALUES ($1, $2, $3) RETURNING id
