-- Account selling: each member's "eras", one per (area, client) — area is
-- the /16 of an IPv4 network (provider renumbering stays inside it) or the
-- /48 of an IPv6 one, client the peer_id's client and version — with first
-- and last announce and counts per hour of day (UTC). Go looks for the one
-- silent gap that splits the eras cleanly into before and after. Dual-stack
-- duplicates are skipped (the same client moments later).
SELECT user_id, hex(area_raw) AS area, hex(client_raw) AS client, hod, first, last, n
FROM (
    SELECT
        user_id,
        if(ip_family = 4, substring(network, 1, 14), substring(network, 1, 6)) AS area_raw,
        substring(peer_id, 1, 6) AS client_raw,
        toUInt8(toHour(time)) AS hod,
        min(time) AS first,
        max(time) AS last,
        toUInt64(count()) AS n
    FROM announces
    PREWHERE toStartOfHour(time) >= toStartOfHour(toDateTime(@from)) AND toStartOfHour(time) <= toDateTime(@until)
        AND time >= toDateTime(@from) AND time < toDateTime(@until)
    WHERE result = 'accepted' AND dual_stack_duplicate = 0
      AND user_id IN @active_users
    GROUP BY user_id, area_raw, client_raw, hod
)
ORDER BY user_id
