-- +goose Up
-- A site member's record from before ratioguard (docs/IMPORT.md, "Opening
-- balances and snatch history"): what `import site` brings from the site
-- besides members and torrents, and from when ratioguard observed the rest.

-- Adjustments may carry seedtime: an opening balance's lifetime seedtime
-- goes to ledger_user_totals.seedtime_seconds like its bytes and points.
ALTER TABLE ledger_adjustments ADD COLUMN seedtime_seconds BIGINT NOT NULL DEFAULT 0;

-- One row per member with a past on the site: created by `import site`, or
-- given an opening or snatches by it. observed_from: from then on ratioguard
-- sees the member's traffic (the import, or the member's first announce if
-- earlier); before it the record is the site's. opening_*: the member's
-- lifetime figures on the site, entered in the ledger as adjustments with
-- reason 'opening balance' (NULL: none imported; the record before
-- observed_from is then unknown and the ratio rule does not judge it).
-- record_announces is ledger_user_totals.announces when the site's record
-- (opening, snatches) was last written: once ratioguard has credited the
-- member since, a file with other figures no longer changes it.
CREATE TABLE ledger_site_history (
    user_id             BIGINT PRIMARY KEY REFERENCES users (id),
    observed_from       TIMESTAMPTZ NOT NULL,
    opening_uploaded    NUMERIC(30) CHECK (opening_uploaded >= 0),
    opening_downloaded  NUMERIC(30) CHECK (opening_downloaded >= 0),
    opening_seedtime    BIGINT CHECK (opening_seedtime >= 0),
    opening_bonus       NUMERIC(20, 4) CHECK (opening_bonus >= 0),
    opening_revision    INTEGER NOT NULL DEFAULT 0,
    opening_at          TIMESTAMPTZ,
    record_announces    BIGINT NOT NULL DEFAULT 0,
    CHECK ((opening_uploaded IS NULL) = (opening_at IS NULL))
);

-- The member's snatches on the site: completed torrents with the seeding
-- done there. Hit-and-run, the weekly seeding share and the staff console
-- read them with ratioguard's own ledger through ledger_snatch_record.
CREATE TABLE ledger_site_snatches (
    user_id          BIGINT NOT NULL REFERENCES users (id),
    torrent_id       BIGINT NOT NULL REFERENCES torrents (id),
    completed_at     TIMESTAMPTZ NOT NULL,
    seedtime_seconds BIGINT NOT NULL CHECK (seedtime_seconds >= 0),
    last_seeded_at   TIMESTAMPTZ,
    uploaded         NUMERIC(30) NOT NULL DEFAULT 0 CHECK (uploaded >= 0),
    downloaded       NUMERIC(30) NOT NULL DEFAULT 0 CHECK (downloaded >= 0),
    imported_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, torrent_id)
);
CREATE INDEX ledger_site_snatches_torrent ON ledger_site_snatches (torrent_id);

-- Member × torrent as enforcement judges it: ratioguard's ledger plus the
-- site's snatch record. Seedtime adds up (seeded on the site, then here);
-- the snatch is the earlier completion; the last activity the later one.
-- (Two branches rather than a FULL JOIN, so a filter on user_id or
-- torrent_id reaches both tables' indexes.)
CREATE VIEW ledger_snatch_record AS
SELECT l.user_id, l.torrent_id,
       l.raw_uploaded + COALESCE(s.uploaded, 0) AS raw_uploaded,
       l.raw_downloaded + COALESCE(s.downloaded, 0) AS raw_downloaded,
       l.credited_uploaded, l.credited_downloaded,
       l.seedtime_seconds + COALESCE(s.seedtime_seconds, 0) AS seedtime_seconds,
       COALESCE(s.seedtime_seconds, 0) AS site_seedtime_seconds,
       LEAST(l.snatched_at, s.completed_at) AS snatched_at,
       LEAST(l.first_announce_at, s.completed_at) AS first_announce_at,
       GREATEST(l.last_announce_at, s.last_seeded_at, s.completed_at) AS last_announce_at,
       l.last_left,
       s.user_id IS NOT NULL AS from_site,
       TRUE AS observed
FROM ledger_user_torrents l
LEFT JOIN ledger_site_snatches s ON s.user_id = l.user_id AND s.torrent_id = l.torrent_id
UNION ALL
SELECT s.user_id, s.torrent_id, s.uploaded, s.downloaded, 0, 0,
       s.seedtime_seconds, s.seedtime_seconds, s.completed_at, s.completed_at,
       GREATEST(s.last_seeded_at, s.completed_at), 0, TRUE, FALSE
FROM ledger_site_snatches s
WHERE NOT EXISTS (SELECT 1 FROM ledger_user_torrents l WHERE l.user_id = s.user_id AND l.torrent_id = s.torrent_id);

-- +goose Down
DROP VIEW ledger_snatch_record;
DROP TABLE ledger_site_snatches;
DROP TABLE ledger_site_history;
ALTER TABLE ledger_adjustments DROP COLUMN seedtime_seconds;
