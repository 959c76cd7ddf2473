-- Multi-IP triggers (incremental passes): members active since the last
-- pass with a clock hour, from @from (max_gap before the new rows, to the
-- start of its hour), in which no site key (IPv4 address, IPv6 /64) is
-- shared by all their peers (peer_id). Where one key is seen by every peer
-- of an hour, every key of that hour joins it through some peer: one
-- location (dual stack, or a dynamic address changing under running
-- sessions). Two locations present at once always leave an hour without
-- such a key: the overlapping intervals have announces in a common hour,
-- on keys of different locations. Announces refused by the location cap
-- count.
SELECT DISTINCT user_id
FROM (
    SELECT user_id, hour, count() AS peers, groupArrayArray(sites) AS all_sites
    FROM (
        SELECT
            user_id,
            toStartOfHour(time) AS hour,
            cityHash64(peer_id) AS peer,
            groupUniqArray(cityHash64(if(ip_family = 4, ip, network))) AS sites
        FROM announces
        PREWHERE toStartOfHour(time) >= toStartOfHour(toDateTime(@from)) AND toStartOfHour(time) <= toDateTime(@until)
             AND time >= toDateTime(@from) AND time < toDateTime(@until)
        WHERE (result = 'accepted' OR refusal = 'too_many_ips') AND user_id IN @active_users
        GROUP BY user_id, hour, peer
    )
    GROUP BY user_id, hour
    HAVING arrayReduce('max', arrayMap(s -> countEqual(all_sites, s), all_sites)) < peers
)
