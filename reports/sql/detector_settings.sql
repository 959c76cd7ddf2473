SELECT section, overrides, updated_by, updated_at FROM detector_settings ORDER BY section
