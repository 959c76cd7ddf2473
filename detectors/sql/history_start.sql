-- The time of the first announce stored (0 when there is none): where the
-- history begins, before which no session can be seen.
SELECT toUInt32(min(time)) AS first FROM announces
