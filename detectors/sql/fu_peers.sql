-- Faked upload, per member × torrent × peer: impossible rate, upload while
-- the swarm had no other leecher at this and the previous announce, the
-- largest single counter jump, and the regularity of the upload rate.
-- Raw deltas only (never credited); dual-stack duplicates are not summed.
SELECT
    user_id,
    torrent_id,
    hex(peer_id) AS peer,
    network,
    toUInt64(arraySum(ups)) AS uploaded,
    toUInt64(dn) AS downloaded,
    toUInt64(length(ups)) AS announces,
    toFloat64(arrayReduce('max', arrayMap((u, s) -> if(s >= 10 AND u >= @min_rate_bytes, u / s, 0), ups, secs))) AS max_rate,
    toFloat64(arrayReduce('max', arrayMap((u, o, p) -> u / greatest(1, greatest(o, p)), ups, others, arrayPushFront(arrayPopBack(others), 0)))) AS max_delta,
    toUInt64(arraySum(arrayMap((u, o, p) -> if(o = 0 AND p = 0, u, 0), ups, others, arrayPushFront(arrayPopBack(others), 1)))) AS no_leecher_up,
    toUInt64(arraySum(arrayMap((u, o, p) -> if(o = 0 AND p = 0 AND u > 0, 1, 0), ups, others, arrayPushFront(arrayPopBack(others), 1)))) AS no_leecher_announces,
    toUInt64(length(rates)) AS rated,
    toFloat64(if(length(rates) > 1, arrayReduce('stddevPop', rates) / (arraySum(rates) / length(rates)), 1)) AS rate_cv,
    toFloat64(if(length(rates) > 1, arrayReduce('uniqExact', arrayFilter(u -> u > 0, ups)) / length(rates), 1)) AS distinct_delta_share,
    toUInt64(max_left) AS max_left
FROM (
    SELECT
        user_id,
        torrent_id,
        peer_id,
        network,
        dn,
        max_left,
        ups,
        secs,
        others,
        arrayFilter((r, u, s) -> u > 0 AND s > 0, arrayMap((u, s) -> u / greatest(s, 1), ups, secs), ups, secs) AS rates
    FROM (
        SELECT
            user_id,
            torrent_id,
            peer_id,
            any(network) AS network,
            sum(delta_downloaded) AS dn,
            max(left) AS max_left,
            arraySort((x, t) -> t, groupArray(delta_uploaded), groupArray(time_ms)) AS ups,
            arraySort((x, t) -> t, groupArray(seconds_since_previous), groupArray(time_ms)) AS secs,
            arraySort((x, t) -> t, groupArray(greatest(toInt64(leechers) - if(left > 0, 1, 0), 0)), groupArray(time_ms)) AS others
        FROM announces
        WHERE time >= toDateTime(@from) AND time < toDateTime(@until)
          AND result = 'accepted' AND dual_stack_duplicate = 0
          AND user_id IN (SELECT user_id FROM user_hour WHERE hour >= toStartOfHour(toDateTime(@active_since)))
        GROUP BY user_id, torrent_id, peer_id
        HAVING sum(delta_uploaded) > 0
    )
)
