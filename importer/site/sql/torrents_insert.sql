-- New torrents; created_at NULL is now, uploader 0 is nobody, site_id NULL: unknown.
INSERT INTO torrents (info_hash, name, size, promotion, promo_download_percent, promo_upload_percent,
                      promotion_until, created_at, uploader_id, site_id)
SELECT v.info_hash, v.name, v.size, v.promotion, v.dl, v.up, v.until, COALESCE(v.created_at, now()), NULLIF(v.uploader, 0), v.site_id
FROM unnest($1::bytea[], $2::text[], $3::bigint[], $4::text[], $5::integer[], $6::integer[],
            $7::timestamptz[], $8::timestamptz[], $9::bigint[], $10::bigint[])
    AS v (info_hash, name, size, promotion, dl, up, until, created_at, uploader, site_id)
