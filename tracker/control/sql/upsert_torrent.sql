-- A torrent registered (or registered again) by the site: $1 info_hash,
-- $2 site id, $3 name, $4 size, $5 promotion name, $6 download %, $7 upload
-- %, $8 until, $9 moderation; a deleted torrent registered again is live.
-- NULL promotion ($5) or moderation ($9) keep the current ones.
INSERT INTO torrents AS t (info_hash, site_id, name, size, promotion, promo_download_percent,
                           promo_upload_percent, promotion_until, moderation)
VALUES ($1, $2, $3, $4, coalesce($5, 'none'), coalesce($6, 100), coalesce($7, 100), $8, coalesce($9, 'approved'))
ON CONFLICT (info_hash) DO UPDATE SET
    site_id                = coalesce(EXCLUDED.site_id, t.site_id),
    name                   = CASE WHEN $10 THEN t.name ELSE EXCLUDED.name END,
    size                   = CASE WHEN $10 THEN t.size ELSE EXCLUDED.size END,
    promotion              = coalesce($5, t.promotion),
    promo_download_percent = coalesce($6, t.promo_download_percent),
    promo_upload_percent   = coalesce($7, t.promo_upload_percent),
    promotion_until        = CASE WHEN $5 IS NULL THEN t.promotion_until ELSE $8 END,
    moderation             = coalesce($9, t.moderation),
    deleted_at             = NULL,
    deleted_reason         = NULL,
    updated_at             = now()
RETURNING id, (xmax = 0)
