-- Other members seen on the member's networks over the window (Gazelle's
-- duplicate-IP view, by /24 and /64 rather than single addresses), from the
-- hourly rollup.
SELECT network, user_id, min(hour) AS first_seen, max(hour) AS last_seen, countMerge(announces) AS n
FROM user_network_hour
PREWHERE network IN (
    SELECT DISTINCT network FROM user_network_hour
    WHERE user_id = @user AND hour >= toStartOfHour(toDateTime(@from)))
WHERE hour >= toStartOfHour(toDateTime(@from)) AND user_id != @user
GROUP BY network, user_id
ORDER BY last_seen DESC
LIMIT 500
