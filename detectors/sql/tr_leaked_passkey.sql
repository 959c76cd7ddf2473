-- Leaked-passkey triggers (incremental passes): members with an hour since
-- the last pass (@from, to the start of its hour) announced from at least
-- @min_networks networks (user_hour rollup).
SELECT DISTINCT user_id
FROM (
    SELECT user_id, hour, uniqExactMerge(networks) AS nets
    FROM user_hour
    WHERE hour >= toStartOfHour(toDateTime(@from)) AND hour < toDateTime(@until)
    GROUP BY user_id, hour
    HAVING nets >= @min_networks
)
