-- NexusPHP report secrets of the members whose set the file gives.
SELECT user_id, torrent_site_id, secret
FROM report_secrets
WHERE user_id = ANY ($1::bigint[])
