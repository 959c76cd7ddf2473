INSERT INTO report_secrets (user_id, torrent_site_id, secret) VALUES ($1, $2, $3)
ON CONFLICT (user_id, torrent_site_id) DO UPDATE SET secret = EXCLUDED.secret, updated_at = now()
