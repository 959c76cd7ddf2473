SELECT t.id, t.site_id, t.info_hash, t.name, t.size, t.promotion, t.promo_download_percent,
       t.promo_upload_percent, t.promotion_until, t.featured, t.moderation,
       t.deleted_at, coalesce(t.deleted_reason, '')
FROM torrents t
WHERE t.id = $1
