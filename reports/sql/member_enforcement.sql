-- One row per enforcement state of a member: kind, torrent, since, until, detail.
SELECT 'ratio_watch', NULL::bigint, '', w.started_at, w.ends_at,
       w.state || ' · required ratio ' || w.required_ratio || COALESCE(' · ' || w.disabled_cause, '')
FROM enforce_ratio_watch w WHERE w.user_id = $1
UNION ALL
SELECT 'hnr_warning', h.torrent_id, COALESCE(t.name, ''), h.issued_at, h.expires_at,
       CASE WHEN h.lifted_at IS NULL THEN 'active · seed by ' || to_char(h.deadline AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI')
            ELSE 'lifted ' || to_char(h.lifted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') || COALESCE(' · ' || h.lifted_reason, '') END
FROM enforce_hnr_warnings h LEFT JOIN torrents t ON t.id = h.torrent_id WHERE h.user_id = $1
UNION ALL
SELECT 'leech_block', b.report_id, '', b.created_at, NULL, b.reason
FROM enforce_leech_blocks b WHERE b.user_id = $1
UNION ALL
SELECT 'leech_hold', NULL, '', l.disabled_at, NULL, l.reason
FROM enforce_leech_holds l WHERE l.user_id = $1
ORDER BY 4 DESC
LIMIT 500
