-- Leaked-passkey triggers (incremental passes): members active since the
-- start of the last pass's hour (@from) with an hour since then at
-- @min_networks networks or @min_clients user agents, or whose last 24 hours
-- reach @min_day_networks networks or @min_clients user agents (user_hour
-- rollup) — the only ways the peaks and the hours at them grow: every 24 h
-- window of the detector that holds the current hour lies in the last 24
-- hours.
SELECT user_id
FROM (
    SELECT user_id, hour, uniqExactMerge(networks) AS nets, uniqExactMerge(user_agents) AS uas
    FROM user_hour
    WHERE hour >= toStartOfHour(toDateTime(@from)) AND hour < toDateTime(@until)
    GROUP BY user_id, hour
    HAVING nets >= @min_networks OR uas >= @min_clients
)
UNION ALL
SELECT user_id
FROM (
    SELECT user_id, max(hour) AS last_hour, uniqExactMerge(networks) AS nets, uniqExactMerge(user_agents) AS uas
    FROM user_hour
    WHERE hour >= subtractHours(toStartOfHour(toDateTime(@from)), 23) AND hour < toDateTime(@until)
    GROUP BY user_id
)
WHERE last_hour >= toStartOfHour(toDateTime(@from)) AND (nets >= @min_day_networks OR uas >= @min_clients)
