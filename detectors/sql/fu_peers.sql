-- Faked upload, per member × torrent × peer, in one pass of plain
-- aggregates (no per-peer arrays): the fastest announce (impossible rate),
-- upload announced while the swarm had no other leecher, the largest single
-- upload delta, and the regularity of the upload rate (coefficient of
-- variation, share of distinct deltas). Raw deltas only (never credited);
-- dual-stack duplicates carry no delta and are skipped.
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
    toFloat64(if(rated > 1 AND rate_avg > 0, rate_sd / rate_avg, 1)) AS rate_cv,
    toFloat64(if(rated > 1, distinct_deltas / rated, 1)) AS distinct_delta_share,
    toUInt64(max_left) AS max_left
FROM (
    SELECT
        user_id,
        torrent_id,
        peer_id,
        any(network) AS network,
        sum(delta_uploaded) AS up,
        sum(delta_downloaded) AS dn,
        count() AS n,
        maxIf(delta_uploaded / seconds_since_previous, seconds_since_previous >= 10 AND delta_uploaded >= @min_rate_bytes) AS max_rate,
        max(delta_uploaded) AS max_delta,
        sumIf(delta_uploaded, leechers <= (left > 0)) AS nl_up,
        countIf(delta_uploaded > 0 AND leechers <= (left > 0)) AS nl_n,
        countIf(delta_uploaded > 0 AND seconds_since_previous > 0) AS rated,
        stddevPopIf(delta_uploaded / seconds_since_previous, delta_uploaded > 0 AND seconds_since_previous > 0) AS rate_sd,
        avgIf(delta_uploaded / seconds_since_previous, delta_uploaded > 0 AND seconds_since_previous > 0) AS rate_avg,
        uniqExactIf(delta_uploaded, delta_uploaded > 0 AND seconds_since_previous > 0) AS distinct_deltas,
        max(left) AS max_left
    FROM announces
    PREWHERE toStartOfHour(time) >= toStartOfHour(toDateTime(@from)) AND toStartOfHour(time) <= toDateTime(@until)
        AND time >= toDateTime(@from) AND time < toDateTime(@until)
    WHERE result = 'accepted' AND dual_stack_duplicate = 0
      AND user_id IN @active_users
    GROUP BY user_id, torrent_id, peer_id
    HAVING up > 0
)
