-- +goose Up
-- Gazelle's freeleech tokens end when their holder completes the download
-- (Ocelot expires them at that announce); UNIT3D's last until the site
-- removes them. The control service deletes a token that expires on
-- completion once the ledger has seen its holder with nothing left to
-- download on the torrent after the token was given.
ALTER TABLE freeleech_tokens ADD COLUMN expires_on_completion BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX freeleech_tokens_expiring ON freeleech_tokens (user_id, torrent_id) WHERE expires_on_completion;

-- +goose Down
DROP INDEX freeleech_tokens_expiring;
ALTER TABLE freeleech_tokens DROP COLUMN expires_on_completion;
