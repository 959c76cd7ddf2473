-- Torrents whose record differs from their row: every column as it must end up.
UPDATE torrents t
SET name = v.name, size = v.size, promotion = v.promotion, promo_download_percent = v.dl,
    promo_upload_percent = v.up, promotion_until = v.until, created_at = v.created_at,
    uploader_id = NULLIF(v.uploader, 0), site_id = v.site_id, updated_at = now()
FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::integer[], $6::integer[],
            $7::timestamptz[], $8::timestamptz[], $9::bigint[], $10::bigint[])
    AS v (id, name, size, promotion, dl, up, until, created_at, uploader, site_id)
WHERE t.id = v.id
