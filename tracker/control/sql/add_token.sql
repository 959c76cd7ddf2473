-- $3: the token ends when its holder completes the torrent (Gazelle's).
INSERT INTO freeleech_tokens (torrent_id, user_id, expires_on_completion) VALUES ($1, $2, $3)
ON CONFLICT (torrent_id, user_id) DO UPDATE SET expires_on_completion = EXCLUDED.expires_on_completion
