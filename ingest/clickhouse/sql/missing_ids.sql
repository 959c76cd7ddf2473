-- Raw rows of one month and Kafka partition, from offset @offset on, in the
-- parts {parts} (a literal list), whose event id is not in announce_ids (in
-- any partition): the ids to re-derive after a ClickHouse crash between the
-- raw part and the ids part of one INSERT. 18.16 reads only the parts named
-- in a literal `_part IN (...)` list; the candidates are read first, so the
-- ids looked up are few.
SELECT event_id, time, kafka_partition, kafka_offset
FROM announces
WHERE _part IN {parts} AND toYYYYMM(time) = @month AND kafka_partition = @partition AND kafka_offset >= @offset
  AND event_id NOT IN (
      SELECT event_id
      FROM announce_ids
      WHERE toYYYYMM(time) = @month
        AND event_id IN (SELECT event_id FROM announces
                         WHERE _part IN {parts} AND toYYYYMM(time) = @month
                           AND kafka_partition = @partition AND kafka_offset >= @offset))
