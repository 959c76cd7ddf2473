-- Member × torrent pairs with at least one whole hour of seedtime not yet
-- turned into bonus points, with the torrent's size and its current seeders
-- (peers whose last announce, with left=0, is at most $2 seconds old). $1 is now.
WITH seeders AS (
    SELECT torrent_id, count(*) AS n FROM ledger_user_torrents
    WHERE last_left = 0 AND last_announce_at >= $1::timestamptz - make_interval(secs => $2)
    GROUP BY torrent_id
)
SELECT ut.user_id, u.name, ut.torrent_id, t.size, ut.seedtime_seconds,
       COALESCE(c.accounted_seedtime, 0), COALESCE(s.n, 0)::int
FROM ledger_user_torrents ut
JOIN users u ON u.id = ut.user_id AND u.enabled
JOIN torrents t ON t.id = ut.torrent_id AND t.deleted_at IS NULL
LEFT JOIN enforce_bonus_cursor c ON c.user_id = ut.user_id AND c.torrent_id = ut.torrent_id
LEFT JOIN seeders s ON s.torrent_id = ut.torrent_id
WHERE ut.seedtime_seconds - COALESCE(c.accounted_seedtime, 0) >= 3600
ORDER BY ut.user_id, ut.torrent_id
