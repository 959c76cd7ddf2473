-- The old tracker's peers imported at cutover (import site, "peers") whose
-- last announce there is within the state window ($1: its start): each
-- becomes the baseline of its session.
SELECT p.user_id, p.torrent_id, p.peer_id, host(p.ip), p.port, p.uploaded, p.downloaded, p.left_bytes, p.announced_at
FROM site_peers p
JOIN users u ON u.id = p.user_id
JOIN torrents t ON t.id = p.torrent_id AND t.deleted_at IS NULL
WHERE p.announced_at >= $1
ORDER BY p.announced_at
