-- Members who announced since the last pass: the subjects an incremental
-- pass re-evaluates.
SELECT DISTINCT user_id
FROM announces
PREWHERE time >= toDateTime(@active_since) AND time < toDateTime(@until)
