-- Torrents of a run, created or refreshed by info hash; returns their ids.
INSERT INTO torrents (info_hash, name, size, created_at)
SELECT t.info_hash, t.name, t.size, t.created_at
FROM unnest($1::bytea[], $2::text[], $3::bigint[], $4::timestamptz[]) AS t (info_hash, name, size, created_at)
ON CONFLICT (info_hash) DO UPDATE SET name = EXCLUDED.name, updated_at = now()
RETURNING id, info_hash
