-- Active hit-and-run warnings, with each member's count of active ones.
SELECT h.id, h.user_id, u.name, h.torrent_id, t.name, h.issued_at, h.deadline, h.expires_at, h.seedtime_seconds,
       count(*) OVER (PARTITION BY h.user_id)
FROM enforce_hnr_warnings h
JOIN users u ON u.id = h.user_id
JOIN torrents t ON t.id = h.torrent_id
WHERE h.lifted_at IS NULL
ORDER BY count(*) OVER (PARTITION BY h.user_id) DESC, h.issued_at DESC
LIMIT 1000
