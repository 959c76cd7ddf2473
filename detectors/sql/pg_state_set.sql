INSERT INTO detector_state (detector, last_until) VALUES ($1, $2)
ON CONFLICT (detector) DO UPDATE SET last_until = EXCLUDED.last_until, updated_at = now()
