INSERT INTO ledger_parked_events (
    event_id, reason, user_id, torrent_id, event_time, raw_uploaded, raw_downloaded,
    credited_uploaded, credited_downloaded, seedtime_seconds, snatch,
    kafka_topic, kafka_partition, kafka_offset)
SELECT id, reason, u, tor, at, ru, rd, cu, cd, st, sn, $12, $13, off
FROM unnest($1::bytea[], $2::text[], $3::bigint[], $4::bigint[], $5::timestamptz[], $6::bigint[],
            $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], $11::boolean[], $14::bigint[])
     AS x (id, reason, u, tor, at, ru, rd, cu, cd, st, sn, off)
ON CONFLICT (event_id) DO NOTHING
