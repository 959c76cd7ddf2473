-- Torrents as the control surface shows them, by id ascending: $1 one id
-- (NULL: any), $2 deleted (NULL: any); ids above $3, at most $4.
SELECT t.id, t.site_id, t.info_hash, t.name, t.size, t.promotion, t.promo_download_percent,
       t.promo_upload_percent, t.promotion_until, t.featured, t.moderation,
       t.deleted_at, coalesce(t.deleted_reason, '')
FROM torrents t
WHERE ($1::bigint IS NULL OR t.id = $1)
  AND ($2::boolean IS NULL OR (t.deleted_at IS NOT NULL) = $2)
  AND t.id > $3
ORDER BY t.id
LIMIT $4
