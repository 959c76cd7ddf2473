-- +goose Up
-- NexusPHP's tracker report secrets (its torrent_secrets): the .torrent
-- files NexusPHP wrote from June 2021 to May 2023 announce with
-- announce.php?authkey=TORRENT|USER|HASH instead of a passkey, HASH being
-- Hashids(secret).encode(date). A member's secret for one torrent (the
-- site's torrent id) wins over the one for all of them (0). The tracker
-- reloads them all on any change.
CREATE TABLE report_secrets (
    user_id         BIGINT NOT NULL REFERENCES users (id),
    torrent_site_id BIGINT NOT NULL DEFAULT 0 CHECK (torrent_site_id >= 0),
    secret          TEXT NOT NULL CHECK (secret <> ''),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, torrent_site_id)
);

CREATE TRIGGER report_secrets_notify AFTER INSERT OR UPDATE OR DELETE ON report_secrets
    FOR EACH STATEMENT EXECUTE FUNCTION notify_policy_table_change();

-- +goose Down
DROP TRIGGER report_secrets_notify ON report_secrets;
DROP TABLE report_secrets;
