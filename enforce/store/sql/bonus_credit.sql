-- Credit bonus points to a member's totals (the adjustment row itself is
-- inserted beside it). $1 user, $2 points, $3 now. Returns the points after.
INSERT INTO ledger_user_totals AS t (user_id, bonus_points, updated_at)
VALUES ($1, $2, $3)
ON CONFLICT (user_id) DO UPDATE SET
    bonus_points = t.bonus_points + EXCLUDED.bonus_points,
    updated_at   = EXCLUDED.updated_at
RETURNING t.bonus_points::float8
