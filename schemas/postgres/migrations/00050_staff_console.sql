-- +goose Up
-- The staff console (reports/, issue 14): notes staff keep on a member, a
-- second admin's confirmation before a disable_account verdict takes effect,
-- and long-lived API tokens with scopes for scripts (the token itself is
-- never stored, only its SHA-256, like staff_sessions).
CREATE TABLE staff_notes (
    id         BIGSERIAL PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    staff_id   BIGINT NOT NULL REFERENCES staff (id),
    body       TEXT NOT NULL CHECK (btrim(body) <> '' AND length(body) <= 10000),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX staff_notes_user ON staff_notes (user_id, created_at DESC);

-- A review whose verdict disables the account is first a proposal kept on
-- the open report (the review as sent, who proposed it and when); it is
-- applied when a second admin confirms it, so enforce never sees it before.
ALTER TABLE cheat_reports
    ADD COLUMN proposed_review JSONB,
    ADD COLUMN proposed_by BIGINT REFERENCES staff (id),
    ADD COLUMN proposed_at TIMESTAMPTZ;

CREATE TABLE staff_api_tokens (
    id          BIGSERIAL PRIMARY KEY,
    staff_id    BIGINT NOT NULL REFERENCES staff (id) ON DELETE CASCADE,
    name        TEXT NOT NULL CHECK (btrim(name) <> ''),
    token_hash  BYTEA NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    scopes      TEXT[] NOT NULL CHECK (scopes <@ ARRAY['read', 'review', 'admin']::TEXT[] AND cardinality(scopes) > 0),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at  TIMESTAMPTZ,
    last_used_at TIMESTAMPTZ,
    revoked_at  TIMESTAMPTZ
);
CREATE INDEX staff_api_tokens_staff ON staff_api_tokens (staff_id);

CREATE INDEX audit_log_at ON audit_log (at DESC);
CREATE INDEX audit_log_actor ON audit_log (actor, at DESC);

-- +goose Down
DROP INDEX audit_log_actor;
DROP INDEX audit_log_at;
DROP TABLE staff_api_tokens;
ALTER TABLE cheat_reports DROP COLUMN proposed_at, DROP COLUMN proposed_by, DROP COLUMN proposed_review;
DROP TABLE staff_notes;
