-- Multi-IP candidates: members with a clock hour in which two of their
-- peers (peer_id) were seen at different sets of sites — a site key is the
-- IPv4 address or the IPv6 /64. Where every peer of an hour shows at the
-- same sites, those sites share a peer and are one location (dual stack),
-- so a member without such an hour never has two locations present at once
-- (two presence intervals that overlap have announces in a common hour).
-- Announces refused by the tracker's location cap count: they come from a
-- location too. A peer's set of sites is compared by a hash (the sum of its
-- sites' cityHash64).
SELECT DISTINCT user_id
FROM (
    SELECT user_id, hour, uniqExact(sites) AS site_sets
    FROM (
        SELECT
            user_id,
            toStartOfHour(time) AS hour,
            arraySum(groupUniqArray(cityHash64(if(ip_family = 4, ip, network)))) AS sites
        FROM announces
        PREWHERE toStartOfHour(time) >= toStartOfHour(toDateTime(@from)) AND toStartOfHour(time) <= toDateTime(@until)
             AND time >= toDateTime(@from) AND time < toDateTime(@until)
        WHERE (result = 'accepted' OR refusal = 'too_many_ips') AND user_id IN @active_users
        GROUP BY user_id, hour, peer_id
    )
    GROUP BY user_id, hour
    HAVING site_sets >= 2
)
