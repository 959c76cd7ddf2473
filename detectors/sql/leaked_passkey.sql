-- Leaked passkey, per member over the window (user_hour rollup: accepted and
-- refused announces alike, so strangers the IP cap or the client rules turned
-- away count): the peak of networks in one hour, the hours at
-- @min_networks or more and the peak of user agents in one hour; and per
-- day, the peak of networks and the user agents of the days with
-- @min_day_networks networks or more (strangers arrive over hours, each on
-- its own line with its own client). Days are 24 h windows starting at 00:00
-- and at 12:00 UTC (each hour counts in two), so a burst across midnight
-- stays in one: any 24 h overlaps one of them by 18 h or more.
SELECT
    user_id,
    peak_networks,
    hours_over,
    peak_clients,
    peak_day_networks,
    peak_day_clients
FROM (
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
) ANY LEFT JOIN (
    SELECT
        user_id,
        toUInt64(max(nets)) AS peak_day_networks,
        toUInt64(maxIf(uas, nets >= @min_day_networks)) AS peak_day_clients
    FROM (
        SELECT user_id, day, uniqExactMerge(networks) AS nets, uniqExactMerge(user_agents) AS uas
        FROM user_hour
        ARRAY JOIN [toStartOfDay(hour), addHours(toStartOfDay(subtractHours(hour, 12)), 12)] AS day
        WHERE hour >= toStartOfHour(toDateTime(@from)) AND hour < toDateTime(@until)
          AND user_id IN @active_users
        GROUP BY user_id, day
    )
    GROUP BY user_id
) USING user_id
WHERE peak_networks >= @min_networks OR peak_day_networks >= @min_day_networks
