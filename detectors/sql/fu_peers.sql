-- Faked upload, per member × torrent × peer, from the detector_peer_hour
-- rollup (hour-aligned window): the fastest announce (impossible rate),
-- upload announced while the swarm had no other leecher, the largest single
-- upload delta, and the regularity of the upload rate (coefficient of
-- variation from the rate sums; share of distinct deltas, where the rollup
-- counts 0 as one more distinct value). Raw deltas only; dual-stack
-- duplicates carry no delta and are not in the rollup.
SELECT
    user_id,
    torrent_id,
    hex(peer_id) AS peer,
    network,
    toUInt64(up) AS uploaded,
    toUInt64(dn) AS downloaded,
    toUInt64(n) AS announces,
    toFloat64(max_rate) AS max_rate,
    toFloat64(max_delta) AS max_delta,
    toUInt64(nl_up) AS no_leecher_up,
    toUInt64(nl_n) AS no_leecher_announces,
    toUInt64(rated) AS rated,
    toFloat64(if(rated > 1 AND rate_sum > 0, sqrt(greatest(rate_sq / rated - pow(rate_sum / rated, 2), 0.)) / (rate_sum / rated), 1)) AS rate_cv,
    toFloat64(if(rated > 1, least(greatest(distinct_deltas - 1, 1), rated) / rated, 1)) AS distinct_delta_share,
    toUInt64(max_left) AS max_left
FROM (
    SELECT
        user_id,
        torrent_id,
        peer_id,
        anyMerge(network) AS network,
        sumMerge(uploaded) AS up,
        sumMerge(downloaded) AS dn,
        countMerge(announces) AS n,
        maxMerge(max_rate) AS max_rate,
        maxMerge(max_delta) AS max_delta,
        sumMerge(no_leecher_up) AS nl_up,
        sumMerge(no_leecher_n) AS nl_n,
        sumMerge(rated) AS rated,
        sumMerge(rate_sum) AS rate_sum,
        sumMerge(rate_sq) AS rate_sq,
        uniqMerge(deltas) AS distinct_deltas,
        maxMerge(max_left) AS max_left
    FROM detector_peer_hour
    WHERE hour >= toStartOfHour(toDateTime(@from)) AND hour < toDateTime(@until)
      AND user_id IN (SELECT user_id FROM user_hour WHERE hour >= toStartOfHour(toDateTime(@active_since)) AND hour < toDateTime(@until))
    GROUP BY user_id, torrent_id, peer_id
    HAVING up > 0
)
