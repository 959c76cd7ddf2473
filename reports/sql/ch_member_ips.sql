-- A member's addresses over the (short) raw window: network (/24, /64), first and last
-- seen, announces. The raw table is ordered by hour first: the window is
-- given on toStartOfHour(time) so that 18.16 uses the key.
SELECT ip, network, min(time) AS first_seen, max(time) AS last_seen, count() AS announces
FROM announces
PREWHERE toStartOfHour(time) >= toStartOfHour(toDateTime(@from)) AND user_id = @user
GROUP BY ip, network
ORDER BY last_seen DESC
LIMIT 500
