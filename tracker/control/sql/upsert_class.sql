INSERT INTO member_classes AS c (class, site_group_id, download_percent, upload_percent, immune, download_slots)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (class) DO UPDATE SET
    site_group_id    = coalesce(EXCLUDED.site_group_id, c.site_group_id),
    download_percent = EXCLUDED.download_percent,
    upload_percent   = EXCLUDED.upload_percent,
    immune           = EXCLUDED.immune,
    download_slots   = EXCLUDED.download_slots,
    updated_at       = now()
