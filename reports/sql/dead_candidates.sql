-- Who could reseed: up to 5 members per torrent who seeded or snatched it,
-- most recently active on the site first.
SELECT torrent_id, user_id, name, last_here, snatched_at, seeded, last_active
FROM (
    SELECT l.torrent_id, l.user_id, u.name, l.last_announce_at AS last_here, l.snatched_at, l.last_left = 0 AS seeded,
           (SELECT max(x.last_announce_at) FROM ledger_user_torrents x WHERE x.user_id = l.user_id) AS last_active,
           row_number() OVER (PARTITION BY l.torrent_id ORDER BY (l.last_left = 0) DESC, l.last_announce_at DESC) AS n
    FROM ledger_user_torrents l
    JOIN users u ON u.id = l.user_id AND u.enabled
    WHERE l.torrent_id = ANY($1) AND (l.last_left = 0 OR l.snatched_at IS NOT NULL)
) c
WHERE n <= 5
ORDER BY torrent_id, last_active DESC
