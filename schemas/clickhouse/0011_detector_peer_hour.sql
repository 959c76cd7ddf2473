-- Detectors: per (hour, member, torrent, peer) aggregates of the raw
-- announces, ordered by hour first so a 48-hour faked-upload window reads
-- 48 hours, not the whole month (announces is ordered by member). Raw
-- deltas only; refused announces and dual-stack duplicates (no delta) are
-- left out. max_rate counts announces ≥ 10 s after the previous one that
-- moved ≥ 1 GiB (NexusPHP's floor); the rate sums give the coefficient of
-- variation of a peer's upload rate; deltas counts distinct non-zero upload
-- deltas (approximate).
CREATE TABLE IF NOT EXISTS detector_peer_hour (
    hour          DateTime,
    user_id       UInt64,
    torrent_id    UInt64,
    peer_id       FixedString(20),
    network       AggregateFunction(any, FixedString(16)),
    announces     AggregateFunction(count),
    uploaded      AggregateFunction(sum, UInt64),
    downloaded    AggregateFunction(sum, UInt64),
    max_rate      AggregateFunction(max, Float64),
    max_delta     AggregateFunction(max, UInt64),
    no_leecher_up AggregateFunction(sum, UInt64),
    no_leecher_n  AggregateFunction(sum, UInt64),
    rated         AggregateFunction(sum, UInt64),
    rate_sum      AggregateFunction(sum, Float64),
    rate_sq       AggregateFunction(sum, Float64),
    deltas        AggregateFunction(uniq, UInt64),
    max_left      AggregateFunction(max, UInt64)
) ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMM(hour)
ORDER BY (hour, user_id, torrent_id, peer_id);

CREATE MATERIALIZED VIEW IF NOT EXISTS detector_peer_hour_mv TO detector_peer_hour AS
SELECT
    toStartOfHour(time) AS hour,
    user_id,
    torrent_id,
    peer_id,
    anyState(network) AS network,
    countState() AS announces,
    sumState(delta_uploaded) AS uploaded,
    sumState(delta_downloaded) AS downloaded,
    maxState(if(seconds_since_previous >= 10 AND delta_uploaded >= 1073741824, delta_uploaded / seconds_since_previous, 0.)) AS max_rate,
    maxState(delta_uploaded) AS max_delta,
    sumState(if(leechers <= (left > 0), delta_uploaded, toUInt64(0))) AS no_leecher_up,
    sumState(toUInt64(delta_uploaded > 0 AND leechers <= (left > 0))) AS no_leecher_n,
    sumState(toUInt64(delta_uploaded > 0 AND seconds_since_previous > 0)) AS rated,
    sumState(if(delta_uploaded > 0 AND seconds_since_previous > 0, delta_uploaded / seconds_since_previous, 0.)) AS rate_sum,
    sumState(if(delta_uploaded > 0 AND seconds_since_previous > 0, pow(delta_uploaded / seconds_since_previous, 2), 0.)) AS rate_sq,
    uniqState(if(delta_uploaded > 0 AND seconds_since_previous > 0, delta_uploaded, toUInt64(0))) AS deltas,
    maxState(left) AS max_left
FROM announces
WHERE result = 'accepted' AND dual_stack_duplicate = 0
GROUP BY hour, user_id, torrent_id, peer_id;
