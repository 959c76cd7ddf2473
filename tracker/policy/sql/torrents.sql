-- Registered torrents with their promotion, deletion, moderation and the
-- members holding a freeleech token; $1 NULL loads all, else one id.
SELECT t.id, t.info_hash, t.size, t.promotion, t.promo_download_percent, t.promo_upload_percent,
       t.promotion_until, t.deleted_at IS NOT NULL, coalesce(t.deleted_reason, ''), t.deleted_at,
       t.featured, t.moderation,
       (SELECT array_agg(ft.user_id) FROM freeleech_tokens ft WHERE ft.torrent_id = t.id)
FROM torrents t
WHERE $1::bigint IS NULL OR t.id = $1
