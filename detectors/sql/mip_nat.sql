-- Networks shared by many members in the window: NAT households and
-- carrier-grade NAT, left out of per-member network counts.
SELECT network
FROM user_network_hour
WHERE hour >= toStartOfHour(toDateTime(@from)) AND hour < toDateTime(@until)
GROUP BY network
HAVING uniqExact(user_id) >= @nat_min_users
