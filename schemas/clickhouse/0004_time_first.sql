-- Time-first raw table and rollups off the insert path (docs/ARCHITECTURE.md
-- "Rollups", docs/BENCHMARKS.md "Ingest").
--
-- * `announces` is re-created ordered by (toStartOfHour(time), user_id, ...):
--   readers of a time window (the rollup builder, the detectors' incremental
--   passes, per-torrent scans) read that window only. Queries must say
--   `toStartOfHour(time) >= ...` for 18.16 to use the key (it does not derive
--   it from a condition on `time`).
-- * `announces_by_torrent` (a per-torrent copy) is dropped: the time-first
--   table serves its readers, and its view no longer costs every insert.
-- * The rollups lose their materialized views: `ratioguard ingest` (and
--   `detect` before a pass) rebuild each hour whose row count differs from
--   the raw table's, with ALTER TABLE ... REPLACE PARTITION from a staging
--   table (package ingest/rollup), so they are a function of the raw rows and
--   never double or miss one. Partitioned by hour for that.
--
-- Run with the ingest stopped. After a crash the file runs again from the
-- top: the copy starts over from whichever table is named `announces`. The
-- old table is dropped only once the copy holds that name; if a crash left
-- `announces_0003` behind, the RENAME fails and says so: drop it by hand
-- after checking that `announces` holds every row (nothing is dropped
-- automatically that might be the only copy).
DROP TABLE IF EXISTS user_hour_mv;
DROP TABLE IF EXISTS torrent_hour_mv;
DROP TABLE IF EXISTS user_network_hour_mv;
DROP TABLE IF EXISTS announces_by_torrent_mv;
DROP TABLE IF EXISTS announce_ids_mv;
DROP TABLE IF EXISTS announces_by_torrent;
DROP TABLE IF EXISTS announces_0004;

CREATE TABLE announces_0004 (
    event_id               FixedString(16),
    producer_id            FixedString(8),
    sequence               UInt64,
    kafka_partition        UInt32,
    kafka_offset           UInt64,
    schema_version         UInt8,
    time                   DateTime,
    time_ms                UInt64,
    user_id                UInt64,
    torrent_id             UInt64,
    info_hash              FixedString(20),
    peer_id                FixedString(20),
    ip                     FixedString(16),
    ip_family              UInt8,
    network                FixedString(16),
    port                   UInt16,
    user_agent             LowCardinality(String),
    key                    String,
    param_order            LowCardinality(String),
    event                  Enum8('none' = 0, 'started' = 1, 'stopped' = 2, 'completed' = 3, 'paused' = 4),
    numwant                UInt16,
    uploaded               UInt64,
    downloaded             UInt64,
    left                   UInt64,
    corrupt                UInt64,
    delta_uploaded         UInt64,
    delta_downloaded       UInt64,
    credited_uploaded      UInt64,
    credited_downloaded    UInt64,
    promotion              LowCardinality(String),
    promo_download_percent UInt16,
    promo_upload_percent   UInt16,
    seconds_since_previous UInt32,
    seedtime_seconds       UInt32,
    snatch                 UInt8,
    counter_reset          UInt8,
    dual_stack_duplicate   UInt8,
    seeders                UInt32,
    leechers               UInt32,
    result                 Enum8('accepted' = 1, 'refused' = 2),
    refusal                LowCardinality(String)
) ENGINE = MergeTree()
PARTITION BY toYYYYMM(time)
ORDER BY (toStartOfHour(time), user_id, torrent_id, time, event_id);

INSERT INTO announces_0004 (
    event_id, producer_id, sequence, kafka_partition, kafka_offset, schema_version, time, time_ms,
    user_id, torrent_id, info_hash, peer_id, ip, ip_family, network, port, user_agent, key,
    param_order, event, numwant, uploaded, downloaded, left, corrupt, delta_uploaded,
    delta_downloaded, credited_uploaded, credited_downloaded, promotion, promo_download_percent,
    promo_upload_percent, seconds_since_previous, seedtime_seconds, snatch, counter_reset,
    dual_stack_duplicate, seeders, leechers, result, refusal
)
SELECT
    event_id, producer_id, sequence, kafka_partition, kafka_offset, schema_version, time, time_ms,
    user_id, torrent_id, info_hash, peer_id, ip, ip_family, network, port, user_agent, key,
    param_order, event, numwant, uploaded, downloaded, left, corrupt, delta_uploaded,
    delta_downloaded, credited_uploaded, credited_downloaded, promotion, promo_download_percent,
    promo_upload_percent, seconds_since_previous, seedtime_seconds, snatch, counter_reset,
    dual_stack_duplicate, seeders, leechers, result, refusal
FROM announces;

RENAME TABLE announces TO announces_0003, announces_0004 TO announces;
DROP TABLE IF EXISTS announces_0003;

CREATE MATERIALIZED VIEW IF NOT EXISTS announce_ids_mv TO announce_ids AS
SELECT event_id, time, kafka_partition, kafka_offset
FROM announces;

-- Rollups: the same columns as after 0003, one partition per hour.
DROP TABLE IF EXISTS user_hour;
DROP TABLE IF EXISTS torrent_hour;
DROP TABLE IF EXISTS user_network_hour;

CREATE TABLE user_hour (
    user_id             UInt64,
    hour                DateTime,
    announces           AggregateFunction(count),
    refused             AggregateFunction(sum, UInt64),
    delta_uploaded      AggregateFunction(sum, UInt64),
    delta_downloaded    AggregateFunction(sum, UInt64),
    credited_uploaded   AggregateFunction(sum, UInt64),
    credited_downloaded AggregateFunction(sum, UInt64),
    seedtime_seconds    AggregateFunction(sum, UInt64),
    networks            AggregateFunction(uniqExact, FixedString(16)),
    user_agents         AggregateFunction(uniqExact, String)
) ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMMDD(hour) * 100 + toHour(hour)
ORDER BY (user_id, hour);

CREATE TABLE torrent_hour (
    torrent_id       UInt64,
    hour             DateTime,
    announces        AggregateFunction(count),
    delta_uploaded   AggregateFunction(sum, UInt64),
    delta_downloaded AggregateFunction(sum, UInt64),
    corrupt_max      AggregateFunction(max, UInt64),
    starts           AggregateFunction(sum, UInt64),
    completions      AggregateFunction(sum, UInt64),
    max_seeders      AggregateFunction(max, UInt32),
    max_leechers     AggregateFunction(max, UInt32)
) ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMMDD(hour) * 100 + toHour(hour)
ORDER BY (torrent_id, hour);

CREATE TABLE user_network_hour (
    user_id          UInt64,
    network          FixedString(16),
    hour             DateTime,
    announces        AggregateFunction(count),
    delta_uploaded   AggregateFunction(sum, UInt64),
    delta_downloaded AggregateFunction(sum, UInt64)
) ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMMDD(hour) * 100 + toHour(hour)
ORDER BY (user_id, hour, network);
