-- Torrents nobody has seeded for $1 days (or ever, when older than that),
-- the ones with leechers waiting and the most snatches first.
WITH t AS (
    SELECT t.id, t.name, t.size, t.created_at,
           (SELECT max(l.last_announce_at) FROM ledger_user_torrents l WHERE l.torrent_id = t.id AND l.last_left = 0) AS last_seeded,
           (SELECT count(*) FROM ledger_user_torrents l WHERE l.torrent_id = t.id AND l.snatched_at IS NOT NULL) AS snatches,
           (SELECT count(*) FROM ledger_user_torrents l
             WHERE l.torrent_id = t.id AND l.last_left > 0 AND l.last_announce_at > now() - interval '1 day') AS waiting
    FROM torrents t
    WHERE t.deleted_at IS NULL AND t.created_at < now() - make_interval(days => $1)
)
SELECT id, name, size, last_seeded, snatches, waiting
FROM t
WHERE last_seeded IS NULL OR last_seeded < now() - make_interval(days => $1)
ORDER BY waiting DESC, snatches DESC, id
LIMIT $2
