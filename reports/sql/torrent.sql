SELECT t.id, t.name, encode(t.info_hash, 'hex'), t.size, t.promotion, t.promo_download_percent, t.promo_upload_percent,
       t.promotion_until, t.uploader_id, COALESCE(u.name, ''), COALESCE(t.deleted_reason, ''), t.created_at,
       (SELECT count(*) FROM ledger_user_torrents l WHERE l.torrent_id = t.id AND l.last_left = 0 AND l.last_announce_at > now() - interval '1 hour'),
       (SELECT count(*) FROM ledger_user_torrents l WHERE l.torrent_id = t.id AND l.last_left > 0 AND l.last_announce_at > now() - interval '1 hour'),
       (SELECT count(*) FROM ledger_user_torrents l WHERE l.torrent_id = t.id AND l.snatched_at IS NOT NULL)
FROM torrents t
LEFT JOIN users u ON u.id = t.uploader_id
WHERE t.id = $1
