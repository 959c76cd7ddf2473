INSERT INTO torrents (info_hash, name, size, uploader_id, promotion, promo_download_percent, promo_upload_percent, promotion_until)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
RETURNING id
