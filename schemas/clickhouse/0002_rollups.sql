-- Hourly rollups maintained by materialized views over `announces`, for the
-- detectors and the staff pages. Read them with the -Merge combinators and
-- GROUP BY (rows for one key may not be merged yet).

-- Per member × hour.
CREATE TABLE IF NOT EXISTS user_hour (
    user_id             UInt64,
    hour                DateTime,
    announces           AggregateFunction(count),
    refused             AggregateFunction(sum, UInt64),
    delta_uploaded      AggregateFunction(sum, UInt64),
    delta_downloaded    AggregateFunction(sum, UInt64),
    credited_uploaded   AggregateFunction(sum, UInt64),
    credited_downloaded AggregateFunction(sum, UInt64),
    seedtime_seconds    AggregateFunction(sum, UInt64),
    ips                 AggregateFunction(uniqExact, FixedString(16)),
    networks            AggregateFunction(uniqExact, FixedString(16)),
    peer_ids            AggregateFunction(uniqExact, FixedString(20)),
    torrents            AggregateFunction(uniqExact, UInt64),
    user_agents         AggregateFunction(uniqExact, String)
) ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMM(hour)
ORDER BY (user_id, hour);

CREATE MATERIALIZED VIEW IF NOT EXISTS user_hour_mv TO user_hour AS
SELECT user_id,
       toStartOfHour(time) AS hour,
       countState() AS announces,
       sumState(toUInt64(result = 'refused')) AS refused,
       sumState(delta_uploaded) AS delta_uploaded,
       sumState(delta_downloaded) AS delta_downloaded,
       sumState(credited_uploaded) AS credited_uploaded,
       sumState(credited_downloaded) AS credited_downloaded,
       sumState(toUInt64(seedtime_seconds)) AS seedtime_seconds,
       uniqExactState(ip) AS ips,
       uniqExactState(network) AS networks,
       uniqExactState(peer_id) AS peer_ids,
       uniqExactState(torrent_id) AS torrents,
       uniqExactState(toString(user_agent)) AS user_agents
FROM announces
GROUP BY user_id, hour;

-- Per torrent × hour.
CREATE TABLE IF NOT EXISTS torrent_hour (
    torrent_id       UInt64,
    hour             DateTime,
    announces        AggregateFunction(count),
    delta_uploaded   AggregateFunction(sum, UInt64),
    delta_downloaded AggregateFunction(sum, UInt64),
    corrupt_max      AggregateFunction(max, UInt64),
    starts           AggregateFunction(sum, UInt64),
    completions      AggregateFunction(sum, UInt64),
    users            AggregateFunction(uniqExact, UInt64),
    max_seeders      AggregateFunction(max, UInt32),
    max_leechers     AggregateFunction(max, UInt32)
) ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMM(hour)
ORDER BY (torrent_id, hour);

CREATE MATERIALIZED VIEW IF NOT EXISTS torrent_hour_mv TO torrent_hour AS
SELECT torrent_id,
       toStartOfHour(time) AS hour,
       countState() AS announces,
       sumState(delta_uploaded) AS delta_uploaded,
       sumState(delta_downloaded) AS delta_downloaded,
       maxState(corrupt) AS corrupt_max,
       sumState(toUInt64(event = 'started')) AS starts,
       sumState(toUInt64(event = 'completed')) AS completions,
       uniqExactState(user_id) AS users,
       maxState(seeders) AS max_seeders,
       maxState(leechers) AS max_leechers
FROM announces
WHERE result = 'accepted'
GROUP BY torrent_id, hour;

-- Per member × network (/24 IPv4, /64 IPv6) × hour.
CREATE TABLE IF NOT EXISTS user_network_hour (
    user_id          UInt64,
    network          FixedString(16),
    hour             DateTime,
    announces        AggregateFunction(count),
    delta_uploaded   AggregateFunction(sum, UInt64),
    delta_downloaded AggregateFunction(sum, UInt64),
    peer_ids         AggregateFunction(uniqExact, FixedString(20)),
    user_agents      AggregateFunction(uniqExact, String),
    torrents         AggregateFunction(uniqExact, UInt64)
) ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMM(hour)
ORDER BY (user_id, network, hour);

CREATE MATERIALIZED VIEW IF NOT EXISTS user_network_hour_mv TO user_network_hour AS
SELECT user_id,
       network,
       toStartOfHour(time) AS hour,
       countState() AS announces,
       sumState(delta_uploaded) AS delta_uploaded,
       sumState(delta_downloaded) AS delta_downloaded,
       uniqExactState(peer_id) AS peer_ids,
       uniqExactState(toString(user_agent)) AS user_agents,
       uniqExactState(torrent_id) AS torrents
FROM announces
GROUP BY user_id, network, hour;
