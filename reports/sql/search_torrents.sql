-- Torrents by id, by info_hash (hex), or by a part of the name (case-insensitive; $3 escaped for LIKE).
SELECT t.id, t.name, encode(t.info_hash, 'hex'), t.size, t.promotion
FROM torrents t
WHERE t.id = $1 OR t.info_hash = $2 OR ($3 <> '' AND lower(t.name) LIKE '%' || lower($3) || '%')
ORDER BY t.id = $1 DESC, t.info_hash = $2 DESC, t.name
LIMIT 50
