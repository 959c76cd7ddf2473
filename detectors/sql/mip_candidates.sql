-- Multi-IP candidates of a pass: members with a clock hour in which they
-- announced from two site keys or more (an IPv4 address, an IPv6 /64). Two
-- presence intervals that overlap have announces in a common hour, so a
-- member without such an hour never has two locations present at once.
-- Announces refused by the tracker's location cap count: they come from a
-- location too. Dual-stack members pass this filter; Go joins their keys.
SELECT DISTINCT user_id
FROM (
    SELECT user_id, toStartOfHour(time) AS hour
    FROM announces
    PREWHERE toStartOfHour(time) >= toStartOfHour(toDateTime(@from)) AND toStartOfHour(time) <= toDateTime(@until)
         AND time >= toDateTime(@from) AND time < toDateTime(@until)
    WHERE (result = 'accepted' OR refusal = 'too_many_ips') AND user_id IN @active_users
    GROUP BY user_id, hour
    HAVING uniqExact(if(ip_family = 4, ip, network)) >= 2
)
