-- Invite trees. $1: the detectors whose reports mark a bad invitee (by
-- member id, or by passkey): confirmed by staff, or open at one of the
-- severities $3 (invite_tree.count_open; none by default: an unreviewed
-- report is itself in doubt); $2: bad invitees an inviter needs. One row per invitee of
-- each such inviter and per counted report of that invitee (report columns
-- NULL for an invitee without one), with the share of all invited members
-- that are bad (the site's baseline).
WITH reports AS (
    SELECT id, detector, subject_kind, subject_id, status, severity, score,
           COALESCE(evidence->>'summary', '') AS summary
    FROM cheat_reports
    WHERE detector = ANY($1) AND subject_kind IN ('user', 'passkey')
      AND (status = 'confirmed' OR (status = 'open' AND severity = ANY($3::text[])))
), bad AS (
    SELECT u.id AS invitee, u.invited_by AS inviter, r.*
    FROM reports r JOIN users u ON r.subject_kind = 'user' AND u.id::text = r.subject_id
    WHERE u.invited_by IS NOT NULL
    UNION ALL
    SELECT u.id, u.invited_by, r.*
    FROM reports r JOIN users u ON r.subject_kind = 'passkey' AND u.passkey = r.subject_id
    WHERE u.invited_by IS NOT NULL
    UNION ALL -- a passkey report written without Postgres names its member
    SELECT u.id, u.invited_by, r.*
    FROM reports r JOIN users u ON r.subject_kind = 'passkey' AND 'user:' || u.id = r.subject_id
    WHERE u.invited_by IS NOT NULL
), inviters AS (
    SELECT inviter FROM bad GROUP BY inviter HAVING count(DISTINCT invitee) >= $2
), base AS (
    SELECT (SELECT count(DISTINCT invitee) FROM bad)::float8
         / GREATEST((SELECT count(*) FROM users WHERE invited_by IS NOT NULL), 1) AS site_share
)
SELECT i.inviter, iu.name, u.id, u.name, b.id, b.detector, b.status, b.severity, b.score, b.summary, base.site_share
FROM inviters i
JOIN users iu ON iu.id = i.inviter
JOIN users u ON u.invited_by = i.inviter
LEFT JOIN bad b ON b.invitee = u.id
CROSS JOIN base
ORDER BY i.inviter, u.id, b.detector, b.id
