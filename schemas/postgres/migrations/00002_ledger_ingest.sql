-- +goose Up
-- What the ledger consumer (ingest/ledger) needs beyond 00001.

-- Counters the ledger keeps per member and per member × torrent.
ALTER TABLE ledger_user_totals ADD COLUMN snatches BIGINT NOT NULL DEFAULT 0;
ALTER TABLE ledger_user_torrents ADD COLUMN announces BIGINT NOT NULL DEFAULT 0;

-- Accepted events the ledger could not apply: the member or torrent is not in
-- Postgres (foreign keys), or the event is older than the dedupe horizon (its
-- id may already be pruned from ledger_applied_events, so applying it could
-- count it twice). Kept with their amounts so nothing is lost; reconcile
-- counts them on the ledger side; staff may apply them with an adjustment.
CREATE TABLE ledger_parked_events (
    event_id            BYTEA PRIMARY KEY CHECK (length(event_id) = 16),
    reason              TEXT NOT NULL CHECK (reason <> ''),
    user_id             BIGINT NOT NULL,
    torrent_id          BIGINT NOT NULL,
    event_time          TIMESTAMPTZ NOT NULL,
    raw_uploaded        BIGINT NOT NULL,
    raw_downloaded      BIGINT NOT NULL,
    credited_uploaded   BIGINT NOT NULL,
    credited_downloaded BIGINT NOT NULL,
    seedtime_seconds    BIGINT NOT NULL,
    snatch              BOOLEAN NOT NULL,
    kafka_topic         TEXT NOT NULL,
    kafka_partition     INTEGER NOT NULL,
    kafka_offset        BIGINT NOT NULL,
    parked_at           TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX ledger_parked_events_user ON ledger_parked_events (user_id);

-- A reversal for a cheat report is applied once per member and torrent, even
-- when the enforcement job retries.
CREATE UNIQUE INDEX ledger_adjustments_report_once
    ON ledger_adjustments (report_id, user_id, COALESCE(torrent_id, 0))
    WHERE report_id IS NOT NULL;

-- +goose Down
DROP INDEX ledger_adjustments_report_once;
DROP TABLE ledger_parked_events;
ALTER TABLE ledger_user_torrents DROP COLUMN announces;
ALTER TABLE ledger_user_totals DROP COLUMN snatches;
