-- Raw announces, one row per event. Kept inside the SQL subset that both
-- ClickHouse 18.16 and the current LTS accept (see DESIGN.md): no TTL, no
-- CODEC, no DateTime64, no IPv4/IPv6 types. IPs are FixedString(16),
-- IPv4-mapped; `network` is the /24 (IPv4) or /64 (IPv6) the IP belongs to.
-- Retention: drop monthly partitions.
CREATE TABLE IF NOT EXISTS announces (
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
ORDER BY (user_id, torrent_id, time, event_id);

-- Per-torrent scans (swarm conservation, ghost leechers) read this copy,
-- ordered by torrent; it carries only what those scans need.
CREATE TABLE IF NOT EXISTS announces_by_torrent (
    torrent_id       UInt64,
    time             DateTime,
    event_id         FixedString(16),
    user_id          UInt64,
    peer_id          FixedString(20),
    network          FixedString(16),
    event            Enum8('none' = 0, 'started' = 1, 'stopped' = 2, 'completed' = 3, 'paused' = 4),
    left             UInt64,
    delta_uploaded   UInt64,
    delta_downloaded UInt64,
    corrupt          UInt64,
    seeders          UInt32,
    leechers         UInt32,
    result           Enum8('accepted' = 1, 'refused' = 2)
) ENGINE = MergeTree()
PARTITION BY toYYYYMM(time)
ORDER BY (torrent_id, time, event_id);

CREATE MATERIALIZED VIEW IF NOT EXISTS announces_by_torrent_mv TO announces_by_torrent AS
SELECT torrent_id, time, event_id, user_id, peer_id, network, event, left,
       delta_uploaded, delta_downloaded, corrupt, seeders, leechers, result
FROM announces;

-- Event ids already loaded, for the loader's exactly-once dedupe (see
-- docs/ARCHITECTURE.md "Ingest: exactly once"). Written by the same INSERT
-- as `announces` (through the view), ordered by event_id so a batch's ids
-- (producer id + big-endian sequence: contiguous per producer) are found
-- with the primary key. Same partitioning as `announces`: drop both together.
CREATE TABLE IF NOT EXISTS announce_ids (
    event_id        FixedString(16),
    time            DateTime,
    kafka_partition UInt32,
    kafka_offset    UInt64
) ENGINE = MergeTree()
PARTITION BY toYYYYMM(time)
ORDER BY event_id;

CREATE MATERIALIZED VIEW IF NOT EXISTS announce_ids_mv TO announce_ids AS
SELECT event_id, time, kafka_partition, kafka_offset
FROM announces;

-- Kafka offsets owned by the loader, written after the batch's data: the
-- next offset to read per (consumer, topic, partition). Only grows; merges
-- keep the highest; read with max(next_offset).
CREATE TABLE IF NOT EXISTS ingest_offsets (
    consumer    String,
    topic       String,
    partition   UInt32,
    next_offset UInt64,
    rows        UInt64,
    updated_at  DateTime
) ENGINE = ReplacingMergeTree(next_offset)
ORDER BY (consumer, topic, partition);
