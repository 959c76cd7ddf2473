-- +goose Up
-- Data fix (issue 14): reversal amounts were accepted up to NUMERIC(30) and
-- enforcement reads them as bigint, so one amount over 2^63-1 bytes stopped
-- every enforcement pass with "bigint out of range". Such an amount is
-- removed; reverse_credit goes with it when no amount is left; a confirmed
-- report left without a verdict goes back to the queue (unless the detector
-- has opened a newer report on the same subject: then it stays confirmed,
-- with nothing to carry out). Nothing is lost: each fixed report gets an
-- audit row with its review before and after, and a line in its note.
-- Afterwards a check keeps amounts within bigint.
WITH bad AS (
    SELECT r.id, r.status, r.verdict, r.note, r.reverse_uploaded, r.reverse_downloaded,
           CASE WHEN r.reverse_uploaded > 9223372036854775807 THEN NULL ELSE r.reverse_uploaded END AS up,
           CASE WHEN r.reverse_downloaded > 9223372036854775807 THEN NULL ELSE r.reverse_downloaded END AS down,
           row_number() OVER (PARTITION BY r.detector, r.subject_kind, r.subject_id ORDER BY r.id DESC) AS newest,
           EXISTS (SELECT 1 FROM cheat_reports o WHERE o.status = 'open' AND o.detector = r.detector
                   AND o.subject_kind = r.subject_kind AND o.subject_id = r.subject_id) AS open_exists
    FROM cheat_reports r
    WHERE r.reverse_uploaded > 9223372036854775807 OR r.reverse_downloaded > 9223372036854775807
), fixed AS (
    SELECT b.*,
           CASE WHEN b.up IS NULL AND b.down IS NULL THEN array_remove(b.verdict, 'reverse_credit') ELSE b.verdict END AS new_verdict
    FROM bad b
), decided AS (
    SELECT f.*,
           CASE WHEN f.status = 'confirmed' AND cardinality(f.new_verdict) = 0 AND NOT f.open_exists AND f.newest = 1
                THEN 'open' ELSE f.status END AS new_status
    FROM fixed f
), audited AS (
    INSERT INTO audit_log (actor, action, subject_kind, subject_id, reason, before, after)
    SELECT 'migration/00051', 'report.amount_fix', 'cheat_report', d.id::text,
           'a reversal amount over 2^63-1 bytes stopped every enforcement pass; removed',
           jsonb_build_object('status', d.status, 'verdict', d.verdict,
                              'reverse_uploaded', d.reverse_uploaded::text, 'reverse_downloaded', d.reverse_downloaded::text),
           jsonb_build_object('status', d.new_status, 'verdict', d.new_verdict,
                              'reverse_uploaded', d.up::text, 'reverse_downloaded', d.down::text)
    FROM decided d
    RETURNING subject_id
)
UPDATE cheat_reports r
SET reverse_uploaded = d.up,
    reverse_downloaded = d.down,
    verdict = d.new_verdict,
    status = d.new_status,
    reviewer_id = CASE WHEN d.new_status = 'open' THEN NULL ELSE r.reviewer_id END,
    reviewed_at = CASE WHEN d.new_status = 'open' THEN NULL ELSE r.reviewed_at END,
    enforce_error = NULL,
    note = btrim(r.note || E'\n' || '[migration 00051: reverse amount ' ||
           concat_ws(' / ', CASE WHEN d.up IS NULL AND d.reverse_uploaded IS NOT NULL THEN 'uploaded ' || d.reverse_uploaded::text END,
                            CASE WHEN d.down IS NULL AND d.reverse_downloaded IS NOT NULL THEN 'downloaded ' || d.reverse_downloaded::text END) ||
           ' bytes exceeded 2^63-1 and was removed' ||
           CASE WHEN d.new_status = 'open' AND d.status <> 'open' THEN '; back in the queue for a new review' ELSE '' END || ']'),
    updated_at = now()
FROM decided d
WHERE r.id = d.id AND EXISTS (SELECT 1 FROM audited a WHERE a.subject_id = d.id::text);

ALTER TABLE cheat_reports ADD CONSTRAINT cheat_reports_reverse_fits_bigint
    CHECK (reverse_uploaded <= 9223372036854775807 AND reverse_downloaded <= 9223372036854775807);

-- +goose Down
-- The fixed amounts are not put back (they stopped enforcement); audit_log
-- keeps them.
ALTER TABLE cheat_reports DROP CONSTRAINT cheat_reports_reverse_fits_bigint;
