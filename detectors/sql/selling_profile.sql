-- Account selling: each member's behaviour before (@from … @split, the
-- baseline) and after (@split … @until, recent): recent announces from
-- networks and from clients (peer_id client+version) never seen in the
-- baseline, and the gap between the last baseline and the first recent
-- announce (dormancy).
SELECT user_id, base_n, recent_n, recent_new_net, last_base, first_recent, recent_new_client
FROM (
    SELECT
        user_id,
        toUInt64(sum(b)) AS base_n,
        toUInt64(sum(r)) AS recent_n,
        toUInt64(sumIf(r, b = 0)) AS recent_new_net,
        toUInt32(max(lb)) AS last_base,
        toUInt32(minIf(fr, r > 0)) AS first_recent
    FROM (
        SELECT user_id, network,
            countIf(time < toDateTime(@split)) AS b,
            countIf(time >= toDateTime(@split)) AS r,
            maxIf(time, time < toDateTime(@split)) AS lb,
            minIf(time, time >= toDateTime(@split)) AS fr
        FROM announces
        WHERE time >= toDateTime(@from) AND time < toDateTime(@until) AND result = 'accepted'
          AND user_id IN (SELECT user_id FROM user_hour WHERE hour >= toStartOfHour(toDateTime(@active_since)) AND hour >= toStartOfHour(toDateTime(@split)))
        GROUP BY user_id, network
    )
    GROUP BY user_id
    HAVING base_n >= @min_announces AND recent_n >= @min_announces
) ANY LEFT JOIN (
    SELECT user_id, toUInt64(sumIf(r, b = 0)) AS recent_new_client
    FROM (
        SELECT user_id, substring(peer_id, 1, 6) AS client,
            countIf(time < toDateTime(@split)) AS b,
            countIf(time >= toDateTime(@split)) AS r
        FROM announces
        WHERE time >= toDateTime(@from) AND time < toDateTime(@until) AND result = 'accepted'
          AND user_id IN (SELECT user_id FROM user_hour WHERE hour >= toStartOfHour(toDateTime(@active_since)) AND hour >= toStartOfHour(toDateTime(@split)))
        GROUP BY user_id, client
    )
    GROUP BY user_id
) USING user_id
