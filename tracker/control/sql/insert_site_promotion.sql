INSERT INTO site_promotions (name, download_percent, upload_percent, starts_at, ends_at)
VALUES ($1, $2, $3, $4, $5)
RETURNING id
