-- NexusPHP's tracker report secrets per member and site torrent id (0: all).
SELECT user_id, torrent_site_id, secret FROM report_secrets
