INSERT INTO ledger_user_totals AS t (user_id, credited_uploaded, credited_downloaded, bonus_points, seedtime_seconds, updated_at)
VALUES ($1, $2, $3, $4, $5, now())
ON CONFLICT (user_id) DO UPDATE SET
    credited_uploaded   = t.credited_uploaded + EXCLUDED.credited_uploaded,
    credited_downloaded = t.credited_downloaded + EXCLUDED.credited_downloaded,
    bonus_points        = t.bonus_points + EXCLUDED.bonus_points,
    seedtime_seconds    = t.seedtime_seconds + EXCLUDED.seedtime_seconds,
    updated_at          = now()
RETURNING credited_uploaded < 0 OR credited_downloaded < 0 OR bonus_points < 0 OR seedtime_seconds < 0
