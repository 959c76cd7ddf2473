-- Snatches (more than $2 percent of the torrent downloaded, or completed on
-- the site: ledger_snatch_record adds the site's snatch history and seeding
-- to ratioguard's ledger) whose seeding deadline ($3 seconds after
-- completion, or after the first announce if never completed) has passed
-- without $4 seconds of seedtime, whose warning would still be active ($5 seconds after the deadline), and that have no warning
-- yet. Members of classes $6 (any case) are exempt. $1 is now.
SELECT ut.user_id, u.name, ut.torrent_id, t.name, t.size, ut.raw_downloaded::float8,
       ut.seedtime_seconds, COALESCE(ut.snatched_at, ut.first_announce_at), ut.from_site
FROM ledger_snatch_record ut
JOIN torrents t ON t.id = ut.torrent_id AND t.deleted_at IS NULL AND t.size > 0
JOIN users u ON u.id = ut.user_id AND u.enabled
    AND lower(u.class) <> ALL (SELECT lower(btrim(c)) FROM unnest($6::text[]) AS c)
WHERE (ut.raw_downloaded > t.size * $2::numeric / 100 OR ut.from_site)
  AND ut.seedtime_seconds < $4
  AND COALESCE(ut.snatched_at, ut.first_announce_at) <= $1::timestamptz - make_interval(secs => $3)
  AND COALESCE(ut.snatched_at, ut.first_announce_at) > $1::timestamptz - make_interval(secs => $3 + $5)
  AND NOT EXISTS (SELECT 1 FROM enforce_hnr_warnings w
                  WHERE w.user_id = ut.user_id AND w.torrent_id = ut.torrent_id)
ORDER BY ut.user_id, ut.torrent_id
