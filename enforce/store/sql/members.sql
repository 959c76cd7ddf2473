-- Members with their ledger figures, their weekly seeding share and their
-- enforcement state. A snatch counts as seeded when it gained $3 seconds of
-- seedtime over the last $2 seconds: current seedtime minus the newest daily
-- sample at least $2 old. Without such a sample (the first week after
-- enforcement starts) it counts as seeded if it is being seeded now (an
-- announce with left=0 in the last $4 seconds) or gained $3 since its oldest
-- sample. Snatches and seeding are ratioguard's plus the site's imported
-- history (ledger_snatch_record). unseen_past: a member the site import
-- brought, who joined before ratioguard observed them, without an opening
-- balance — their ratio before observed_from is unknown. $1 is now.
WITH snatch AS (
    SELECT ut.user_id,
           count(*) AS snatches,
           count(*) FILTER (WHERE CASE
               WHEN ut.last_announce_at < $1::timestamptz - make_interval(secs => $2) THEN FALSE
               WHEN old.seedtime_seconds IS NOT NULL THEN ut.seedtime_seconds - old.seedtime_seconds >= $3
               WHEN ut.first_announce_at >= $1::timestamptz - make_interval(secs => $2) THEN ut.seedtime_seconds >= $3
               ELSE (ut.last_left = 0 AND ut.last_announce_at >= $1::timestamptz - make_interval(secs => $4))
                    OR ut.seedtime_seconds - COALESCE(young.seedtime_seconds, ut.seedtime_seconds) >= $3
           END) AS seeded
    FROM ledger_snatch_record ut
    JOIN torrents t ON t.id = ut.torrent_id AND t.deleted_at IS NULL
    LEFT JOIN LATERAL (
        SELECT s.seedtime_seconds FROM enforce_seed_samples s
        WHERE s.user_id = ut.user_id AND s.torrent_id = ut.torrent_id
          AND s.sampled_at <= $1::timestamptz - make_interval(secs => $2)
        ORDER BY s.sampled_at DESC LIMIT 1) old ON TRUE
    LEFT JOIN LATERAL (
        SELECT s.seedtime_seconds FROM enforce_seed_samples s
        WHERE s.user_id = ut.user_id AND s.torrent_id = ut.torrent_id
          AND s.sampled_at > $1::timestamptz - make_interval(secs => $2)
        ORDER BY s.sampled_at ASC LIMIT 1) young ON TRUE
    WHERE ut.snatched_at IS NOT NULL
    GROUP BY ut.user_id
), warnings AS (
    SELECT user_id, count(*) AS active FROM enforce_hnr_warnings
    WHERE lifted_at IS NULL GROUP BY user_id
), blocks AS (
    SELECT user_id, count(*) AS n FROM enforce_leech_blocks GROUP BY user_id
)
SELECT u.id, u.name, u.class, u.enabled, u.can_leech,
       COALESCE(lt.credited_uploaded, 0)::float8, COALESCE(lt.credited_downloaded, 0)::float8,
       COALESCE(sn.snatches, 0)::int, COALESCE(sn.seeded, 0)::int,
       COALESCE(w.state, ''), w.started_at, w.ends_at, COALESCE(w.downloaded_at_start, 0)::float8,
       h.user_id IS NOT NULL, COALESCE(h.reason, ''),
       COALESCE(hw.active, 0)::int, COALESCE(b.n, 0)::int,
       COALESCE(sh.opening_at IS NULL AND u.created_at <= sh.observed_from, FALSE)
FROM users u
LEFT JOIN ledger_site_history sh ON sh.user_id = u.id
LEFT JOIN ledger_user_totals lt ON lt.user_id = u.id
LEFT JOIN snatch sn ON sn.user_id = u.id
LEFT JOIN enforce_ratio_watch w ON w.user_id = u.id
LEFT JOIN enforce_leech_holds h ON h.user_id = u.id
LEFT JOIN warnings hw ON hw.user_id = u.id
LEFT JOIN blocks b ON b.user_id = u.id
WHERE lt.user_id IS NOT NULL OR w.user_id IS NOT NULL OR h.user_id IS NOT NULL
   OR hw.user_id IS NOT NULL OR b.user_id IS NOT NULL
ORDER BY u.id
