-- Site snatches written or changed.
INSERT INTO ledger_site_snatches AS s (user_id, torrent_id, completed_at, seedtime_seconds, last_seeded_at, uploaded, downloaded)
SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::timestamptz[], $4::bigint[], $5::timestamptz[], $6::bigint[], $7::bigint[])
ON CONFLICT (user_id, torrent_id) DO UPDATE SET
    completed_at     = EXCLUDED.completed_at,
    seedtime_seconds = EXCLUDED.seedtime_seconds,
    last_seeded_at   = EXCLUDED.last_seeded_at,
    uploaded         = EXCLUDED.uploaded,
    downloaded       = EXCLUDED.downloaded,
    imported_at      = now()
