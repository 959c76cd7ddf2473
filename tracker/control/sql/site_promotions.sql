SELECT id, name, download_percent, upload_percent, starts_at, ends_at
FROM site_promotions
WHERE ends_at > now()
ORDER BY starts_at, id
