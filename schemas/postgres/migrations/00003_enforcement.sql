-- +goose Up
-- Enforcement (enforce/): ratio watch, hit-and-run warnings, seeding-bonus
-- bookkeeping, leech blocks and the staff's verdicts on cheat reports. Every
-- change to a member made by enforce is also one audit_log row.

-- One row per enforce run (not written by --dry-run).
CREATE TABLE enforce_runs (
    id          BIGSERIAL PRIMARY KEY,
    started_at  TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    planned     INTEGER NOT NULL DEFAULT 0,
    applied     INTEGER NOT NULL DEFAULT 0,
    failed      INTEGER NOT NULL DEFAULT 0,
    error       TEXT
);

-- Daily samples of cumulative seedtime per member × torrent, so "seeded over
-- the last 7 days" is current seedtime minus the sample from a week ago.
CREATE TABLE enforce_seed_samples (
    user_id          BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    torrent_id       BIGINT NOT NULL REFERENCES torrents (id) ON DELETE CASCADE,
    sample_day       DATE NOT NULL,
    sampled_at       TIMESTAMPTZ NOT NULL,
    seedtime_seconds BIGINT NOT NULL,
    PRIMARY KEY (user_id, torrent_id, sample_day)
);
CREATE INDEX enforce_seed_samples_sampled_at ON enforce_seed_samples (sampled_at);

-- Members below their required ratio. 'watch': they have until ends_at;
-- 'disabled': leeching is blocked until the ratio is back.
CREATE TABLE enforce_ratio_watch (
    user_id             BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    state               TEXT NOT NULL CHECK (state IN ('watch', 'disabled')),
    started_at          TIMESTAMPTZ NOT NULL,
    ends_at             TIMESTAMPTZ NOT NULL CHECK (ends_at > started_at),
    downloaded_at_start NUMERIC(30) NOT NULL,
    required_ratio      DOUBLE PRECISION NOT NULL,
    disabled_at         TIMESTAMPTZ,
    disabled_cause      TEXT
);

-- Hit-and-run warnings: at most one per snatch. Active while lifted_at is NULL.
CREATE TABLE enforce_hnr_warnings (
    id               BIGSERIAL PRIMARY KEY,
    user_id          BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    torrent_id       BIGINT NOT NULL REFERENCES torrents (id) ON DELETE CASCADE,
    issued_at        TIMESTAMPTZ NOT NULL,
    deadline         TIMESTAMPTZ NOT NULL,
    expires_at       TIMESTAMPTZ NOT NULL CHECK (expires_at > deadline),
    seedtime_seconds BIGINT NOT NULL,
    lifted_at        TIMESTAMPTZ,
    lifted_reason    TEXT,
    UNIQUE (user_id, torrent_id)
);
CREATE INDEX enforce_hnr_warnings_active ON enforce_hnr_warnings (user_id) WHERE lifted_at IS NULL;

-- Leeching blocks ordered by staff verdicts (ratio and hit-and-run blocks
-- are derived from the two tables above). Staff lift one by deleting its row;
-- the next enforce run gives leeching back when no block is left.
CREATE TABLE enforce_leech_blocks (
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    report_id  BIGINT NOT NULL REFERENCES cheat_reports (id),
    reason     TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, report_id)
);

-- Members whose users.can_leech enforce turned off. enforce only ever turns
-- back on what it turned off: a member disabled by hand stays disabled.
CREATE TABLE enforce_leech_holds (
    user_id     BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    disabled_at TIMESTAMPTZ NOT NULL,
    reason      TEXT NOT NULL
);

-- Seedtime already turned into bonus points, per member × torrent.
CREATE TABLE enforce_bonus_cursor (
    user_id            BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    torrent_id         BIGINT NOT NULL REFERENCES torrents (id) ON DELETE CASCADE,
    accounted_seedtime BIGINT NOT NULL CHECK (accounted_seedtime >= 0),
    updated_at         TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, torrent_id)
);

-- Current seeders per torrent are counted from recent seeding announces.
CREATE INDEX ledger_user_torrents_seeding ON ledger_user_torrents (last_announce_at) WHERE last_left = 0;

-- The staff's verdict on a confirmed report, carried out once by enforce:
--   reverse_credit   ledger adjustment with the report id: credited upload minus
--                    reverse_uploaded, credited download plus reverse_downloaded
--   disable_account  users.enabled = false
--   disable_leech    a leech block (enforce_leech_blocks)
--   reset_passkey    a new random passkey (a leaked one stops working)
-- The subject is the report's user (subject_kind 'user'), the member owning
-- the passkey (subject_kind 'passkey'), or evidence->>'user_id'.
ALTER TABLE cheat_reports
    ADD COLUMN verdict TEXT[] NOT NULL DEFAULT '{}'
        CHECK (verdict <@ ARRAY['reverse_credit', 'disable_account', 'disable_leech', 'reset_passkey']::TEXT[]),
    ADD COLUMN reverse_uploaded NUMERIC(30) CHECK (reverse_uploaded >= 0),
    ADD COLUMN reverse_downloaded NUMERIC(30) CHECK (reverse_downloaded >= 0),
    ADD COLUMN enforced_at TIMESTAMPTZ,
    ADD COLUMN enforce_error TEXT;
CREATE INDEX cheat_reports_to_enforce ON cheat_reports (id)
    WHERE status = 'confirmed' AND enforced_at IS NULL;

-- +goose Down
DROP INDEX cheat_reports_to_enforce;
ALTER TABLE cheat_reports
    DROP COLUMN verdict, DROP COLUMN reverse_uploaded, DROP COLUMN reverse_downloaded,
    DROP COLUMN enforced_at, DROP COLUMN enforce_error;
DROP INDEX ledger_user_torrents_seeding;
DROP TABLE enforce_bonus_cursor, enforce_leech_holds, enforce_leech_blocks,
    enforce_hnr_warnings, enforce_ratio_watch, enforce_seed_samples, enforce_runs;
