INSERT INTO announces (
    event_id, producer_id, sequence, kafka_partition, kafka_offset, schema_version,
    time, time_ms, user_id, torrent_id, info_hash, peer_id, ip, ip_family, network,
    port, user_agent, key, param_order, event, numwant,
    uploaded, downloaded, left, corrupt,
    delta_uploaded, delta_downloaded, credited_uploaded, credited_downloaded,
    promotion, promo_download_percent, promo_upload_percent,
    seconds_since_previous, seedtime_seconds, snatch, counter_reset, dual_stack_duplicate,
    seeders, leechers, result, refusal
)
