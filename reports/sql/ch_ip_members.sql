-- Members seen on an address range (a CIDR's bounds on the IPv4-mapped
-- 16-byte form) over the window, with the addresses they used.
SELECT user_id, ip, min(time) AS first_seen, max(time) AS last_seen, count() AS announces
FROM announces
PREWHERE toStartOfHour(time) >= toStartOfHour(toDateTime(@from))
WHERE ip >= unhex(@lo) AND ip <= unhex(@hi)
GROUP BY user_id, ip
ORDER BY last_seen DESC
LIMIT 500
