INSERT INTO report_secrets (user_id, torrent_site_id, secret)
SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[])
ON CONFLICT (user_id, torrent_site_id) DO UPDATE SET secret = EXCLUDED.secret, updated_at = now()
