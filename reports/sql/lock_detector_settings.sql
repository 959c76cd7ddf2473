-- Saves validate the whole set of overrides: one at a time.
LOCK TABLE detector_settings IN SHARE ROW EXCLUSIVE MODE
