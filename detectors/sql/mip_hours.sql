-- Multi-IP: for member-hours with two or more networks, each network's
-- peers and user agents (Go merges networks that share a peer_id or an IPv4
-- /16 into one site: carrier NAT rotation, provider renumbering) and its
-- announce count. Dual-stack duplicates (the same peer_id over the other
-- address family moments later) are one client and are skipped.
SELECT
    user_id,
    toStartOfHour(time) AS hour,
    network,
    groupUniqArray(hex(peer_id)) AS peers,
    groupUniqArray(toString(user_agent)) AS uas,
    toUInt64(count()) AS announces,
    toUInt64(uniqExact(torrent_id)) AS torrents
FROM announces
PREWHERE time >= toDateTime(@from) AND time < toDateTime(@until)
WHERE result = 'accepted' AND dual_stack_duplicate = 0
  AND (user_id, toStartOfHour(time)) IN (
      SELECT user_id, toStartOfHour(time) AS hour
      FROM announces
      PREWHERE time >= toDateTime(@from) AND time < toDateTime(@until)
      WHERE result = 'accepted' AND dual_stack_duplicate = 0
        AND user_id IN (SELECT user_id FROM user_hour WHERE hour >= toStartOfHour(toDateTime(@active_since)) AND hour < toDateTime(@until))
      GROUP BY user_id, hour
      HAVING uniqExact(network) >= 2
  )
GROUP BY user_id, hour, network
ORDER BY user_id, hour
