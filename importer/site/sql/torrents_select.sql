-- The torrents a site file lists, locked until the import commits.
SELECT id, info_hash, name, size, promotion, promo_download_percent, promo_upload_percent,
       promotion_until, created_at, uploader_id, site_id
FROM torrents
WHERE info_hash = ANY ($1::bytea[])
FOR UPDATE
