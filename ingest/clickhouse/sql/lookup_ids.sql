SELECT event_id
FROM announce_ids
WHERE time >= toDateTime(?) AND time <= toDateTime(?)
  AND event_id IN (SELECT event_id FROM batch_ids)
