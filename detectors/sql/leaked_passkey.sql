-- Leaked passkey: member-hours with many networks, and how many distinct
-- clients and networks the passkey used over the window.
SELECT
    user_id,
    toUInt64(max(nets)) AS peak_networks,
    toUInt64(countIf(nets >= @min_networks)) AS hours_over,
    toUInt64(max(uas)) AS peak_clients
FROM (
    SELECT user_id, hour, uniqExactMerge(networks) AS nets, uniqExactMerge(user_agents) AS uas
    FROM user_hour
    WHERE hour >= toStartOfHour(toDateTime(@from)) AND hour < toDateTime(@until)
      AND user_id IN @active_users
    GROUP BY user_id, hour
)
GROUP BY user_id
HAVING peak_networks >= @min_networks
