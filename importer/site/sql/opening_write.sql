-- Opening balances. Per member $1: the difference from the opening last
-- written ($2 uploaded, $3 downloaded, $4 seedtime, $5 bonus; the whole
-- opening the first time) becomes one ledger adjustment with reason
-- 'opening balance' and idempotency key $6, added to the member's totals as
-- ingest/ledger.Adjust does; the new opening ($7..$10) replaces the one kept
-- in ledger_site_history. Returns the adjustments written, the totals that
-- went negative and the site records updated.
WITH x AS (
    SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::float8[], $6::text[],
                         $7::bigint[], $8::bigint[], $9::bigint[], $10::float8[])
        AS x (user_id, du, dd, ds, db, key, up, down, seed, bonus)
), adj AS (
    INSERT INTO ledger_adjustments (user_id, credited_uploaded, credited_downloaded, seedtime_seconds, bonus_points,
                                    reason, actor, idempotency_key)
    SELECT user_id, du, dd, ds, db, 'opening balance', 'import site', key FROM x
    RETURNING 1
), tot AS (
    INSERT INTO ledger_user_totals AS t (user_id, credited_uploaded, credited_downloaded, seedtime_seconds, bonus_points, updated_at)
    SELECT user_id, du, dd, ds, db, now() FROM x
    ON CONFLICT (user_id) DO UPDATE SET
        credited_uploaded   = t.credited_uploaded + EXCLUDED.credited_uploaded,
        credited_downloaded = t.credited_downloaded + EXCLUDED.credited_downloaded,
        seedtime_seconds    = t.seedtime_seconds + EXCLUDED.seedtime_seconds,
        bonus_points        = t.bonus_points + EXCLUDED.bonus_points,
        updated_at          = now()
    RETURNING t.credited_uploaded < 0 OR t.credited_downloaded < 0 OR t.seedtime_seconds < 0 OR t.bonus_points < 0 AS negative
), hist AS (
    UPDATE ledger_site_history h
    SET opening_uploaded = x.up, opening_downloaded = x.down, opening_seedtime = x.seed, opening_bonus = x.bonus,
        opening_revision = h.opening_revision + 1, opening_at = now()
    FROM x
    WHERE h.user_id = x.user_id
    RETURNING 1
)
SELECT (SELECT count(*) FROM adj), (SELECT count(*) FROM tot WHERE negative), (SELECT count(*) FROM hist)
