-- Members who announced since the last pass: the subjects an incremental
-- pass re-evaluates. The hour condition lets 18.16 read only those hours of
-- the time-first table.
SELECT DISTINCT user_id
FROM announces
PREWHERE toStartOfHour(time) >= toStartOfHour(toDateTime(@active_since)) AND toStartOfHour(time) <= toDateTime(@until)
     AND time >= toDateTime(@active_since) AND time < toDateTime(@until)
