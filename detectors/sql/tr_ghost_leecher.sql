-- Ghost-leecher triggers (incremental passes): members with a new announce
-- (@from = the last pass) of a peer that has downloaded nothing yet still
-- has pieces to get, past its first announce, in a swarm with seeders or
-- while uploading (stuck, impossible upload) — or that completes having
-- downloaded nothing (blind completion).
SELECT DISTINCT user_id
FROM announces
PREWHERE toStartOfHour(time) >= toStartOfHour(toDateTime(@from)) AND toStartOfHour(time) <= toDateTime(@until)
     AND time >= toDateTime(@from) AND time < toDateTime(@until)
WHERE result = 'accepted' AND dual_stack_duplicate = 0 AND downloaded = 0
  AND ((left > 0 AND event != 'started' AND (seeders > 0 OR delta_uploaded > 0)) OR event = 'completed')
