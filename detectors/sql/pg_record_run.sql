INSERT INTO detector_runs (detector, window_from, window_until, active_since, findings, inserted, updated,
                           suppressed, exempted, duration_ms, error)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
