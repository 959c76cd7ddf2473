-- Windows that have not ended yet.
SELECT name, download_percent, upload_percent, starts_at, ends_at
FROM site_promotions
WHERE ends_at > now()
ORDER BY id
