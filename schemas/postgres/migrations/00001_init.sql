-- +goose Up
-- Members, their passkeys and what they may do.
CREATE TABLE users (
    id              BIGSERIAL PRIMARY KEY,
    name            TEXT NOT NULL UNIQUE CHECK (name <> ''),
    passkey         TEXT NOT NULL UNIQUE CHECK (passkey ~ '^[0-9a-f]{32}$'),
    class           TEXT NOT NULL DEFAULT 'member'
                    CHECK (class IN ('member', 'power_user', 'elite', 'vip', 'uploader', 'staff')),
    enabled         BOOLEAN NOT NULL DEFAULT TRUE,
    disabled_reason TEXT,
    can_leech       BOOLEAN NOT NULL DEFAULT TRUE,
    invited_by      BIGINT REFERENCES users (id),
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX users_invited_by ON users (invited_by) WHERE invited_by IS NOT NULL;

-- Registered torrents and their promotion. Factors are percentages: download 0
-- is freeleech, 50 half leech; upload 200 is double upload.
CREATE TABLE torrents (
    id                     BIGSERIAL PRIMARY KEY,
    info_hash              BYTEA NOT NULL UNIQUE CHECK (length(info_hash) = 20),
    name                   TEXT NOT NULL,
    size                   BIGINT NOT NULL CHECK (size >= 0),
    uploader_id            BIGINT REFERENCES users (id),
    promotion              TEXT NOT NULL DEFAULT 'none',
    promo_download_percent INTEGER NOT NULL DEFAULT 100 CHECK (promo_download_percent BETWEEN 0 AND 100),
    promo_upload_percent   INTEGER NOT NULL DEFAULT 100 CHECK (promo_upload_percent BETWEEN 100 AND 1000),
    promotion_until        TIMESTAMPTZ,
    deleted_reason         TEXT,
    deleted_at             TIMESTAMPTZ,
    created_at             TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at             TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Site-wide promotion windows (freeleech weekends and the like).
CREATE TABLE site_promotions (
    id               BIGSERIAL PRIMARY KEY,
    name             TEXT NOT NULL,
    download_percent INTEGER NOT NULL DEFAULT 100 CHECK (download_percent BETWEEN 0 AND 100),
    upload_percent   INTEGER NOT NULL DEFAULT 100 CHECK (upload_percent BETWEEN 100 AND 1000),
    starts_at        TIMESTAMPTZ NOT NULL,
    ends_at          TIMESTAMPTZ NOT NULL CHECK (ends_at > starts_at),
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Client rules: a peer_id prefix (e.g. '-qB', '-TR', '-UT'), an optional
-- version range (inclusive, dotted, compared numerically), the user-agent
-- family the client must present, and whether it is allowed or banned.
CREATE TABLE client_rules (
    id             BIGSERIAL PRIMARY KEY,
    peer_id_prefix TEXT NOT NULL CHECK (peer_id_prefix <> ''),
    min_version    TEXT,
    max_version    TEXT,
    ua_family      TEXT,
    allowed        BOOLEAN NOT NULL,
    reason         TEXT NOT NULL DEFAULT '',
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Declared seedbox ranges per member.
CREATE TABLE seedbox_ranges (
    id                BIGSERIAL PRIMARY KEY,
    user_id           BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    cidr              CIDR NOT NULL,
    counts_for_ip_cap BOOLEAN NOT NULL DEFAULT FALSE,
    note              TEXT NOT NULL DEFAULT '',
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (user_id, cidr)
);

-- Ledger: per-member totals, raw (as reported) and credited (promotion applied).
CREATE TABLE ledger_user_totals (
    user_id             BIGINT PRIMARY KEY REFERENCES users (id),
    raw_uploaded        NUMERIC(30) NOT NULL DEFAULT 0,
    raw_downloaded      NUMERIC(30) NOT NULL DEFAULT 0,
    credited_uploaded   NUMERIC(30) NOT NULL DEFAULT 0,
    credited_downloaded NUMERIC(30) NOT NULL DEFAULT 0,
    seedtime_seconds    BIGINT NOT NULL DEFAULT 0,
    bonus_points        NUMERIC(20, 4) NOT NULL DEFAULT 0,
    announces           BIGINT NOT NULL DEFAULT 0,
    updated_at          TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Ledger: per member × torrent history.
CREATE TABLE ledger_user_torrents (
    user_id             BIGINT NOT NULL REFERENCES users (id),
    torrent_id          BIGINT NOT NULL REFERENCES torrents (id),
    raw_uploaded        NUMERIC(30) NOT NULL DEFAULT 0,
    raw_downloaded      NUMERIC(30) NOT NULL DEFAULT 0,
    credited_uploaded   NUMERIC(30) NOT NULL DEFAULT 0,
    credited_downloaded NUMERIC(30) NOT NULL DEFAULT 0,
    seedtime_seconds    BIGINT NOT NULL DEFAULT 0,
    snatched_at         TIMESTAMPTZ,
    first_announce_at   TIMESTAMPTZ NOT NULL,
    last_announce_at    TIMESTAMPTZ NOT NULL,
    last_left           BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, torrent_id)
);
CREATE INDEX ledger_user_torrents_torrent ON ledger_user_torrents (torrent_id);

-- Ledger: explicit corrections (reversal of fake credit, manual fixes). Never
-- silent updates: every change to a total not caused by an announce is a row here.
CREATE TABLE ledger_adjustments (
    id                  BIGSERIAL PRIMARY KEY,
    user_id             BIGINT NOT NULL REFERENCES users (id),
    torrent_id          BIGINT REFERENCES torrents (id),
    credited_uploaded   NUMERIC(30) NOT NULL DEFAULT 0,
    credited_downloaded NUMERIC(30) NOT NULL DEFAULT 0,
    bonus_points        NUMERIC(20, 4) NOT NULL DEFAULT 0,
    reason              TEXT NOT NULL CHECK (reason <> ''),
    report_id           BIGINT,
    actor               TEXT NOT NULL,
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX ledger_adjustments_user ON ledger_adjustments (user_id);

-- Event ids already applied to the ledger (dedupe of replays and retries).
CREATE TABLE ledger_applied_events (
    event_id   BYTEA PRIMARY KEY CHECK (length(event_id) = 16),
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX ledger_applied_events_applied_at ON ledger_applied_events (applied_at);

-- Kafka offsets owned by a consumer and stored with the data it wrote.
CREATE TABLE consumer_offsets (
    consumer    TEXT NOT NULL,
    topic       TEXT NOT NULL,
    partition   INTEGER NOT NULL,
    next_offset BIGINT NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, topic, partition)
);

-- Staff accounts and their web sessions.
CREATE TABLE staff (
    id            BIGSERIAL PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE CHECK (name <> ''),
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL DEFAULT 'moderator' CHECK (role IN ('moderator', 'admin')),
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE staff_sessions (
    token_hash BYTEA PRIMARY KEY,
    staff_id   BIGINT NOT NULL REFERENCES staff (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at TIMESTAMPTZ NOT NULL
);

-- Cheat reports written by detectors and reviewed by staff.
CREATE TABLE cheat_reports (
    id           BIGSERIAL PRIMARY KEY,
    detector     TEXT NOT NULL,
    subject_kind TEXT NOT NULL CHECK (subject_kind IN ('user', 'torrent', 'passkey')),
    subject_id   TEXT NOT NULL,
    window_start TIMESTAMPTZ NOT NULL,
    window_end   TIMESTAMPTZ NOT NULL CHECK (window_end >= window_start),
    score        DOUBLE PRECISION NOT NULL,
    severity     TEXT NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
    evidence     JSONB NOT NULL DEFAULT '{}'::jsonb,
    status       TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'confirmed', 'dismissed')),
    reviewer_id  BIGINT REFERENCES staff (id),
    note         TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    reviewed_at  TIMESTAMPTZ
);
-- One open report per detector and subject.
CREATE UNIQUE INDEX cheat_reports_one_open
    ON cheat_reports (detector, subject_kind, subject_id) WHERE status = 'open';
CREATE INDEX cheat_reports_status ON cheat_reports (status, updated_at DESC);

-- Every change made by staff or a job: who, what, why, before and after.
CREATE TABLE audit_log (
    id           BIGSERIAL PRIMARY KEY,
    at           TIMESTAMPTZ NOT NULL DEFAULT now(),
    actor        TEXT NOT NULL,
    action       TEXT NOT NULL,
    subject_kind TEXT NOT NULL,
    subject_id   TEXT NOT NULL,
    reason       TEXT NOT NULL DEFAULT '',
    before       JSONB,
    after        JSONB
);
CREATE INDEX audit_log_subject ON audit_log (subject_kind, subject_id, at DESC);

-- The tracker listens on channel 'ratioguard_policy' and reloads what changed.
-- Payload: {"table": ..., "op": ..., "id": ...} (small: NOTIFY payloads are capped at 8000 bytes).
-- +goose StatementBegin
CREATE FUNCTION notify_policy_change() RETURNS trigger AS $$
DECLARE
    row_id BIGINT;
BEGIN
    IF TG_OP = 'DELETE' THEN
        row_id := OLD.id;
    ELSE
        row_id := NEW.id;
    END IF;
    PERFORM pg_notify('ratioguard_policy',
        json_build_object('table', TG_TABLE_NAME, 'op', lower(TG_OP), 'id', row_id)::text);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd

CREATE TRIGGER users_notify AFTER INSERT OR UPDATE OR DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION notify_policy_change();
CREATE TRIGGER torrents_notify AFTER INSERT OR UPDATE OR DELETE ON torrents
    FOR EACH ROW EXECUTE FUNCTION notify_policy_change();
CREATE TRIGGER client_rules_notify AFTER INSERT OR UPDATE OR DELETE ON client_rules
    FOR EACH ROW EXECUTE FUNCTION notify_policy_change();
CREATE TRIGGER site_promotions_notify AFTER INSERT OR UPDATE OR DELETE ON site_promotions
    FOR EACH ROW EXECUTE FUNCTION notify_policy_change();
CREATE TRIGGER seedbox_ranges_notify AFTER INSERT OR UPDATE OR DELETE ON seedbox_ranges
    FOR EACH ROW EXECUTE FUNCTION notify_policy_change();

-- Default client rules: the common clients at sane versions, known ratio fakers refused.
INSERT INTO client_rules (peer_id_prefix, min_version, max_version, ua_family, allowed, reason) VALUES
    ('-qB', '4.0.0', NULL, 'qbittorrent', TRUE, ''),
    ('-TR', '2.90', NULL, 'transmission', TRUE, ''),
    ('-DE', '1.3.0', NULL, 'deluge', TRUE, ''),
    ('-lt', '0.13.0', NULL, 'rtorrent', TRUE, ''),
    ('-LT', '1.2.0', NULL, 'libtorrent', TRUE, ''),
    ('A2-', '1.30.0', NULL, 'aria2', TRUE, ''),
    ('-UT', '3.5.5', NULL, 'utorrent', TRUE, ''),
    ('-UT', NULL, '3.5.4', 'utorrent', FALSE, 'uTorrent older than 3.5.5 is not allowed, please upgrade'),
    ('-BC', NULL, NULL, NULL, FALSE, 'BitComet is not allowed'),
    ('-XL', NULL, NULL, NULL, FALSE, 'Xunlei/Thunder is not allowed'),
    ('-SD', NULL, NULL, NULL, FALSE, 'Xunlei/Thunder is not allowed'),
    ('-RM', NULL, NULL, NULL, FALSE, 'RatioMaster is a known ratio cheating tool'),
    ('-GR', NULL, NULL, NULL, FALSE, 'GreedyTorrent is a known ratio cheating tool');

-- +goose Down
DROP TABLE audit_log, cheat_reports, staff_sessions, staff, consumer_offsets,
    ledger_applied_events, ledger_adjustments, ledger_user_torrents, ledger_user_totals,
    seedbox_ranges, client_rules, site_promotions, torrents, users CASCADE;
DROP FUNCTION notify_policy_change();
