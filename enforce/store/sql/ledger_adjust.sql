-- Apply a ledger adjustment to the member's totals (the adjustment row itself
-- is inserted beside it). Returns the totals after.
INSERT INTO ledger_user_totals AS t (user_id, credited_uploaded, credited_downloaded, bonus_points, updated_at)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (user_id) DO UPDATE SET
    credited_uploaded   = t.credited_uploaded + EXCLUDED.credited_uploaded,
    credited_downloaded = t.credited_downloaded + EXCLUDED.credited_downloaded,
    bonus_points        = t.bonus_points + EXCLUDED.bonus_points,
    updated_at          = EXCLUDED.updated_at
RETURNING t.credited_uploaded::float8, t.credited_downloaded::float8, t.bonus_points::float8
