-- +goose Up
-- The site-facing control surface (tracker/control): the promotion levels a
-- site application drives besides the torrent's own and the site-wide
-- windows, torrents' moderation state, API tokens of the native API, and
-- ledger adjustments made idempotent by a key the caller chooses.
--
-- Promotions, most generous wins per side (download: lowest percent,
-- upload: highest), except neutral leech which counts neither:
--   site-wide window   site_promotions (00001)
--   class or group     member_classes.download_percent/upload_percent
--   torrent            torrents.promo_* (00001); featured: freeleech + double upload
--   personal freeleech personal_freeleech (member, optionally until a time)
--   freeleech token    freeleech_tokens (member x torrent)
--   neutral leech      torrents.promo_download_percent = promo_upload_percent = 0

-- Member classes (UNIT3D groups) and their promotion. users.class names the
-- row; a class without a row has no promotion. site_group_id is UNIT3D's
-- groups.id (the control protocol addresses groups by it).
CREATE TABLE member_classes (
    class            TEXT PRIMARY KEY CHECK (class <> '' AND class = btrim(class)),
    site_group_id    BIGINT UNIQUE,
    download_percent INTEGER NOT NULL DEFAULT 100 CHECK (download_percent BETWEEN 0 AND 100),
    upload_percent   INTEGER NOT NULL DEFAULT 100 CHECK (upload_percent BETWEEN 100 AND 1000),
    immune           BOOLEAN NOT NULL DEFAULT FALSE,
    download_slots   INTEGER CHECK (download_slots >= 0),
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Personal freeleech: every download of the member credits 0 (until NULL:
-- until the site removes it).
CREATE TABLE personal_freeleech (
    user_id    BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    until      TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Freeleech tokens: downloads of the member on the torrent credit 0.
CREATE TABLE freeleech_tokens (
    torrent_id BIGINT NOT NULL REFERENCES torrents (id) ON DELETE CASCADE,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (torrent_id, user_id)
);
CREATE INDEX freeleech_tokens_user ON freeleech_tokens (user_id);

-- Featured torrents (UNIT3D): freeleech and double upload on top of their
-- own promotion. Moderation (UNIT3D torrents.status): only approved
-- torrents may be announced.
ALTER TABLE torrents
    ADD COLUMN featured BOOLEAN NOT NULL DEFAULT FALSE,
    ADD COLUMN moderation TEXT NOT NULL DEFAULT 'approved'
        CHECK (moderation IN ('approved', 'pending', 'rejected', 'postponed'));

-- Neutral leech: upload 0 together with download 0 (neither counted).
ALTER TABLE torrents DROP CONSTRAINT torrents_promo_upload_percent_check;
ALTER TABLE torrents ADD CONSTRAINT torrents_promo_upload_percent_check
    CHECK (promo_upload_percent BETWEEN 100 AND 1000
        OR (promo_upload_percent = 0 AND promo_download_percent = 0));

-- Adjustments made through the control surface (bonus purchases, staff
-- corrections) carry the caller's key: a retried request applies once.
ALTER TABLE ledger_adjustments ADD COLUMN idempotency_key TEXT UNIQUE
    CHECK (idempotency_key <> '');

-- Bearer tokens of the native JSON API: only the SHA-256 of a token is kept.
CREATE TABLE api_tokens (
    id           BIGSERIAL PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE CHECK (name <> ''),
    token_sha256 BYTEA NOT NULL UNIQUE CHECK (length(token_sha256) = 32),
    scopes       TEXT[] NOT NULL CHECK (cardinality(scopes) > 0),
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    revoked_at   TIMESTAMPTZ
);

-- Rows that belong to a member or a torrent notify as a change of that
-- member or torrent (the policy cache reloads it); TG_ARGV: the table
-- named in the payload and the column holding its id.
-- +goose StatementBegin
CREATE FUNCTION notify_policy_owner_change() RETURNS trigger AS $$
DECLARE
    row_json JSONB;
BEGIN
    IF TG_OP = 'DELETE' THEN
        row_json := to_jsonb(OLD);
    ELSE
        row_json := to_jsonb(NEW);
    END IF;
    PERFORM pg_notify('ratioguard_policy',
        json_build_object('table', TG_ARGV[0], 'op', 'update',
                          'id', (row_json ->> TG_ARGV[1])::bigint)::text);
    IF TG_OP = 'UPDATE' AND (to_jsonb(OLD) ->> TG_ARGV[1]) IS DISTINCT FROM (row_json ->> TG_ARGV[1]) THEN
        PERFORM pg_notify('ratioguard_policy',
            json_build_object('table', TG_ARGV[0], 'op', 'update',
                              'id', (to_jsonb(OLD) ->> TG_ARGV[1])::bigint)::text);
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd

CREATE TRIGGER personal_freeleech_notify AFTER INSERT OR UPDATE OR DELETE ON personal_freeleech
    FOR EACH ROW EXECUTE FUNCTION notify_policy_owner_change('users', 'user_id');
CREATE TRIGGER freeleech_tokens_notify AFTER INSERT OR UPDATE OR DELETE ON freeleech_tokens
    FOR EACH ROW EXECUTE FUNCTION notify_policy_owner_change('torrents', 'torrent_id');

-- A class's promotion concerns every member of it: the payload names the
-- table, the tracker reloads its members.
-- +goose StatementBegin
CREATE FUNCTION notify_policy_table_change() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('ratioguard_policy',
        json_build_object('table', TG_TABLE_NAME, 'op', lower(TG_OP), 'id', 0)::text);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd

CREATE TRIGGER member_classes_notify AFTER INSERT OR UPDATE OR DELETE ON member_classes
    FOR EACH STATEMENT EXECUTE FUNCTION notify_policy_table_change();

-- +goose Down
DROP TRIGGER member_classes_notify ON member_classes;
DROP FUNCTION notify_policy_table_change();
DROP TRIGGER freeleech_tokens_notify ON freeleech_tokens;
DROP TRIGGER personal_freeleech_notify ON personal_freeleech;
DROP FUNCTION notify_policy_owner_change();
DROP TABLE api_tokens;
ALTER TABLE ledger_adjustments DROP COLUMN idempotency_key;
-- Fails while a torrent is neutral leech.
ALTER TABLE torrents DROP CONSTRAINT torrents_promo_upload_percent_check;
ALTER TABLE torrents ADD CONSTRAINT torrents_promo_upload_percent_check
    CHECK (promo_upload_percent BETWEEN 100 AND 1000);
ALTER TABLE torrents DROP COLUMN moderation, DROP COLUMN featured;
DROP TABLE freeleech_tokens, personal_freeleech, member_classes;
