-- +goose Up
-- Detector thresholds admins change from the staff console: one row per
-- section of detect's config (faked_upload, multi_ip, ...; "report" for the
-- top-level report_threshold and material_increase) holding a JSON object of
-- the fields overridden, merged over the defaults and detect's config file
-- at the start of every detector pass. Each change is also in audit_log.
CREATE TABLE detector_settings (
    section    TEXT PRIMARY KEY,
    overrides  JSONB NOT NULL CHECK (jsonb_typeof(overrides) = 'object'),
    updated_by TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE detector_settings;
