-- Registered torrents with their promotion, deletion and moderation; $1
-- NULL loads all, else one id. (Freeleech tokens: freeleech_tokens.sql.)
SELECT id, info_hash, size, promotion, promo_download_percent, promo_upload_percent,
       promotion_until, deleted_at IS NOT NULL, coalesce(deleted_reason, ''), deleted_at,
       featured, moderation
FROM torrents
WHERE $1::bigint IS NULL OR id = $1
