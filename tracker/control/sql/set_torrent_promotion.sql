UPDATE torrents SET promotion = $2, promo_download_percent = $3, promo_upload_percent = $4,
    promotion_until = $5, updated_at = now()
WHERE id = ANY($1)
