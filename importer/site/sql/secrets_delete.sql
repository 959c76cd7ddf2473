DELETE FROM report_secrets r
USING unnest($1::bigint[], $2::bigint[]) AS v (user_id, torrent_site_id)
WHERE r.user_id = v.user_id AND r.torrent_site_id = v.torrent_site_id
