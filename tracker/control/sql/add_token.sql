INSERT INTO freeleech_tokens (torrent_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING
