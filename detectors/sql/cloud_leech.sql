-- Offline-download / cloud leech, per member over the window, from the peer
-- sessions (torrent × peer_id) of accepted announces and of those the client
-- rules refused (a refused announce still names the member, the torrent, the
-- address, the peer_id and the counters the client sent):
--   offline sessions: the peer_id starts with one of @offline_clients
--     (Xunlei and the like; prefixes of 2 to 8 characters, matched without a
--     lambda: 18.16 cannot bind peer_id inside one), refused or not;
--   dumps: completed, stopped within @max_seed_seconds, no announce after;
--   leech dumps: dumps whose download ran at @min_down_rate or more (what was
--     left at the first announce over the time to the completion, at least a
--     minute) and uploaded at most @max_ratio of it — each one's address and
--     network go back, to check declared seedboxes and count servers;
--   members with @min_drops dumps or more come back whatever their speed.
SELECT
    user_id,
    toUInt64(uniqExactIf(torrent_id, offline)) AS offline_torrents,
    toUInt64(sumIf(n, offline)) AS offline_announces,
    toUInt64(sumIf(refused, offline)) AS offline_refused,
    groupUniqArrayIf(client, offline) AS offline_clients,
    toUInt64(countIf(completed_at > 0)) AS completed,
    toUInt64(countIf(completed_at > 0 AND stopped_at >= completed_at AND stopped_at - completed_at <= @max_seed_seconds AND last_at <= stopped_at)) AS dumped,
    groupArrayIf(ip, completed_at > 0 AND stopped_at >= completed_at AND stopped_at - completed_at <= @max_seed_seconds AND last_at <= stopped_at
        AND rate >= @min_down_rate AND up_max <= @max_ratio * greatest(down_max, left_first)) AS dump_ips,
    groupArrayIf(network, completed_at > 0 AND stopped_at >= completed_at AND stopped_at - completed_at <= @max_seed_seconds AND last_at <= stopped_at
        AND rate >= @min_down_rate AND up_max <= @max_ratio * greatest(down_max, left_first)) AS dump_networks,
    toUInt64(sum(up)) AS uploaded,
    toUInt64(sum(down)) AS downloaded,
    toFloat64(max(rate)) AS max_down_rate,
    groupUniqArrayIf(network, completed_at > 0 AND stopped_at >= completed_at AND stopped_at - completed_at <= @max_seed_seconds AND last_at <= stopped_at) AS networks
FROM (
    SELECT
        user_id,
        torrent_id,
        hasAny(@offline_clients, [substring(peer_id, 1, 2), substring(peer_id, 1, 3), substring(peer_id, 1, 4), substring(peer_id, 1, 5),
        substring(peer_id, 1, 6), substring(peer_id, 1, 7), substring(peer_id, 1, 8)]) AS offline,
        substring(peer_id, 1, 8) AS client,
        count() AS n,
        countIf(result = 'refused') AS refused,
        any(ip) AS ip,
        any(network) AS network,
        toUInt32(min(time)) AS first_at,
        toUInt32(maxIf(time, event = 'completed')) AS completed_at,
        toUInt32(maxIf(time, event = 'stopped')) AS stopped_at,
        toUInt32(max(time)) AS last_at,
        argMin(left, time) AS left_first,
        max(uploaded) AS up_max,
        max(downloaded) AS down_max,
        sum(delta_uploaded) AS up,
        sum(delta_downloaded) AS down,
        if(completed_at > 0, left_first / greatest(completed_at - first_at, 60), 0) AS rate
    FROM announces
    WHERE toStartOfHour(time) >= toStartOfHour(toDateTime(@from)) AND toStartOfHour(time) <= toDateTime(@until)
      AND time >= toDateTime(@from) AND time < toDateTime(@until)
      AND (result = 'accepted' OR refusal = 'client_banned') AND dual_stack_duplicate = 0
      AND user_id IN @active_users
    GROUP BY user_id, torrent_id, peer_id
)
GROUP BY user_id
HAVING offline_torrents > 0 OR length(dump_ips) > 0 OR dumped >= @min_drops
