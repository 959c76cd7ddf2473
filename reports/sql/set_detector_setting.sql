INSERT INTO detector_settings (section, overrides, updated_by)
VALUES ($1, $2, $3)
ON CONFLICT (section) DO UPDATE
SET overrides = EXCLUDED.overrides, updated_by = EXCLUDED.updated_by, updated_at = now()
