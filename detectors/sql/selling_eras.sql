-- Account selling: each member's "eras", one per (area, client) — area is
-- the /16 of an IPv4 network (provider renumbering stays inside it) or the
-- /48 of an IPv6 one, client the peer_id's client and version — with first
-- and last announce and counts per hour of day (UTC). Go looks for the one
-- silent gap that splits the eras cleanly into before and after.
SELECT
    user_id,
    hex(if(ip_family = 4, substring(network, 1, 14), substring(network, 1, 6))) AS area,
    hex(substring(peer_id, 1, 6)) AS client,
    toUInt8(toHour(time)) AS hod,
    min(time) AS first,
    max(time) AS last,
    toUInt64(count()) AS n
FROM announces
WHERE time >= toDateTime(@from) AND time < toDateTime(@until) AND result = 'accepted'
  AND user_id IN (SELECT user_id FROM user_hour WHERE hour >= toStartOfHour(toDateTime(@active_since)))
GROUP BY user_id, area, client, hod
ORDER BY user_id
