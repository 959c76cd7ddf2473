-- Other members seen on the member's networks over the window (Gazelle's
-- duplicate-IP view, by /24 and /64 rather than single addresses).
SELECT network, user_id, min(time) AS first_seen, max(time) AS last_seen, count() AS announces
FROM announces
PREWHERE toStartOfHour(time) >= toStartOfHour(toDateTime(@from))
WHERE network IN (
    SELECT DISTINCT network FROM announces
    PREWHERE toStartOfHour(time) >= toStartOfHour(toDateTime(@from)) AND user_id = @user)
  AND user_id != @user
GROUP BY network, user_id
ORDER BY last_seen DESC
LIMIT 500
