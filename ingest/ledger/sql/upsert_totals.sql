INSERT INTO ledger_user_totals AS t (
    user_id, raw_uploaded, raw_downloaded, credited_uploaded, credited_downloaded,
    seedtime_seconds, announces, snatches, updated_at)
SELECT u, ru, rd, cu, cd, st, n, sn, now()
FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[],
            $6::bigint[], $7::bigint[], $8::bigint[]) AS x (u, ru, rd, cu, cd, st, n, sn)
ON CONFLICT (user_id) DO UPDATE SET
    raw_uploaded        = t.raw_uploaded + EXCLUDED.raw_uploaded,
    raw_downloaded      = t.raw_downloaded + EXCLUDED.raw_downloaded,
    credited_uploaded   = t.credited_uploaded + EXCLUDED.credited_uploaded,
    credited_downloaded = t.credited_downloaded + EXCLUDED.credited_downloaded,
    seedtime_seconds    = t.seedtime_seconds + EXCLUDED.seedtime_seconds,
    announces           = t.announces + EXCLUDED.announces,
    snatches            = t.snatches + EXCLUDED.snatches,
    updated_at          = now()
