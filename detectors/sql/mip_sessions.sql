-- Multi-IP sessions of the given members: one row per (member, site key,
-- peer_id, torrent) — a site key is the IPv4 address (IPv4-mapped) or the
-- IPv6 /64 — with the times of its announces, those of its `stopped`, its
-- listen port and user agent. Go turns consecutive announces into presence
-- intervals, joins site keys into locations and measures the time several
-- locations were present at once. Announces refused by the location cap
-- count as presence too.
SELECT
    user_id,
    if(ip_family = 4, ip, network) AS site,
    peer_id AS peer,
    torrent_id,
    any(port) AS port,
    any(toString(user_agent)) AS ua,
    arraySort(groupArray(toUInt32(time))) AS times,
    groupArrayIf(toUInt32(time), event = 'stopped') AS stops
FROM announces
PREWHERE toStartOfHour(time) >= toStartOfHour(toDateTime(@from)) AND toStartOfHour(time) <= toDateTime(@until)
     AND time >= toDateTime(@from) AND time < toDateTime(@until)
WHERE (result = 'accepted' OR refusal = 'too_many_ips')
  AND user_id IN (SELECT toUInt64(arrayJoin(@users)))
GROUP BY user_id, site, peer_id, torrent_id
ORDER BY user_id
