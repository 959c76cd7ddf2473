-- Accepted announces of members, cut at the ledger's offsets: {cut} is
-- replaced by a condition on (kafka_partition, kafka_offset).
SELECT user_id, count(), sum(delta_uploaded), sum(delta_downloaded),
       sum(credited_uploaded), sum(credited_downloaded),
       sum(toUInt64(seedtime_seconds)), sum(toUInt64(snatch))
FROM announces
WHERE result = 'accepted' AND user_id != 0 AND ({cut})
GROUP BY user_id
