-- Snatches per torrent as the ledger counts them: members who completed it.
SELECT torrent_id, count(*)
FROM ledger_user_torrents
WHERE snatched_at IS NOT NULL
GROUP BY torrent_id
