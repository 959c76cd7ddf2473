-- A member's clients over the window: the peer_id's first 8 bytes (client
-- and version, Azureus style "-qB4650-"), the user agent, first and last seen.
SELECT substring(peer_id, 1, 8) AS prefix, toString(user_agent) AS ua,
       min(time) AS first_seen, max(time) AS last_seen, count() AS announces, uniqExact(peer_id) AS peers
FROM announces
PREWHERE toStartOfHour(time) >= toStartOfHour(toDateTime(@from)) AND user_id = @user
GROUP BY prefix, ua
ORDER BY last_seen DESC
LIMIT 200
