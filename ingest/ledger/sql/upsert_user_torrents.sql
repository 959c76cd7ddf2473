INSERT INTO ledger_user_torrents AS t (
    user_id, torrent_id, raw_uploaded, raw_downloaded, credited_uploaded, credited_downloaded,
    seedtime_seconds, snatched_at, first_announce_at, last_announce_at, last_left, announces)
SELECT *
FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[],
            $7::bigint[], $8::timestamptz[], $9::timestamptz[], $10::timestamptz[], $11::bigint[],
            $12::bigint[])
ON CONFLICT (user_id, torrent_id) DO UPDATE SET
    raw_uploaded        = t.raw_uploaded + EXCLUDED.raw_uploaded,
    raw_downloaded      = t.raw_downloaded + EXCLUDED.raw_downloaded,
    credited_uploaded   = t.credited_uploaded + EXCLUDED.credited_uploaded,
    credited_downloaded = t.credited_downloaded + EXCLUDED.credited_downloaded,
    seedtime_seconds    = t.seedtime_seconds + EXCLUDED.seedtime_seconds,
    snatched_at         = LEAST(t.snatched_at, EXCLUDED.snatched_at),
    first_announce_at   = LEAST(t.first_announce_at, EXCLUDED.first_announce_at),
    last_left           = CASE WHEN EXCLUDED.last_announce_at >= t.last_announce_at
                               THEN EXCLUDED.last_left ELSE t.last_left END,
    last_announce_at    = GREATEST(t.last_announce_at, EXCLUDED.last_announce_at),
    announces           = t.announces + EXCLUDED.announces
