-- +goose Up
-- Members and networks the detectors never report or count, besides staff
-- classes (detector config) and declared seedboxes (seedbox_ranges).
CREATE TABLE detector_allowlist (
    id         BIGSERIAL PRIMARY KEY,
    kind       TEXT NOT NULL CHECK (kind IN ('user', 'network')),
    user_id    BIGINT REFERENCES users (id) ON DELETE CASCADE,
    cidr       CIDR,
    reason     TEXT NOT NULL CHECK (reason <> ''),
    created_by TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK ((kind = 'user' AND user_id IS NOT NULL AND cidr IS NULL)
        OR (kind = 'network' AND cidr IS NOT NULL AND user_id IS NULL))
);

-- Where each scheduled detector pass ended, so the next one is incremental.
CREATE TABLE detector_state (
    detector   TEXT PRIMARY KEY,
    last_until TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- One row per detector per pass: what it found and how long it took.
CREATE TABLE detector_runs (
    id          BIGSERIAL PRIMARY KEY,
    detector    TEXT NOT NULL,
    window_from TIMESTAMPTZ NOT NULL,
    window_until TIMESTAMPTZ NOT NULL,
    active_since TIMESTAMPTZ NOT NULL,
    findings    INTEGER NOT NULL,
    inserted    INTEGER NOT NULL,
    updated     INTEGER NOT NULL,
    suppressed  INTEGER NOT NULL,
    exempted    INTEGER NOT NULL,
    duration_ms BIGINT NOT NULL,
    error       TEXT NOT NULL DEFAULT '',
    started_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX detector_runs_detector ON detector_runs (detector, started_at DESC);

-- +goose Down
DROP TABLE detector_runs, detector_state, detector_allowlist;
