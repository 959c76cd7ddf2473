-- Multi-IP: for member-hours with two or more networks, each network's
-- peers and user agents (Go merges networks that share a peer_id into one
-- site: dual stack, carrier NAT rotation) and its announce count.
SELECT
    user_id,
    toStartOfHour(time) AS hour,
    network,
    groupUniqArray(hex(peer_id)) AS peers,
    groupUniqArray(toString(user_agent)) AS uas,
    toUInt64(count()) AS announces,
    toUInt64(uniqExact(torrent_id)) AS torrents
FROM announces
PREWHERE toStartOfHour(time) >= toStartOfHour(toDateTime(@from)) AND toStartOfHour(time) <= toDateTime(@until)
     AND time >= toDateTime(@from) AND time < toDateTime(@until)
WHERE result = 'accepted' AND user_id IN @active_users
  AND (user_id, toStartOfHour(time)) IN (
      SELECT user_id, hour
      FROM user_network_hour
      WHERE hour >= toStartOfHour(toDateTime(@from)) AND hour < toDateTime(@until)
        AND user_id IN @active_users
      GROUP BY user_id, hour
      HAVING uniqExact(network) >= 2
  )
GROUP BY user_id, hour, network
ORDER BY user_id, hour
