SELECT r.id, r.detector, r.subject_kind, r.subject_id, r.window_start, r.window_end,
       r.score, r.severity, r.status, r.note, r.created_at, r.updated_at, r.reviewed_at,
       COALESCE(s.name, ''), r.verdict, r.enforced_at,
       COALESCE(CASE r.subject_kind
                  WHEN 'user' THEN r.subject_id
                  WHEN 'passkey' THEN COALESCE(r.evidence->>'user_id',
                      CASE WHEN r.subject_id LIKE 'user:%' THEN substr(r.subject_id, 6) END,
                      (SELECT u.id::text FROM users u WHERE u.passkey = r.subject_id))
                END, ''),
       COALESCE(a.name, '')
FROM cheat_reports r
LEFT JOIN staff s ON s.id = r.reviewer_id
LEFT JOIN staff a ON a.id = r.assignee_id
WHERE ($1 = '' OR r.status = $1)
  AND ($2 = '' OR r.detector = $2)
  AND ($3 = '' OR r.severity = $3)
  -- a member's reports: about the member, or about their passkey (named by the
  -- evidence's user_id, by "user:N" when the detector knew no passkey, or by
  -- the member's passkey today)
  AND ($4 = '' OR (r.subject_kind = 'user' AND r.subject_id = $4)
       OR (r.subject_kind = 'passkey' AND (r.evidence->>'user_id' = $4 OR r.subject_id = 'user:' || $4
           OR r.subject_id = (SELECT u.passkey FROM users u WHERE u.id = $7))))
  AND ($5 = 0 OR r.id < $5)
  -- assignee: '' any, '-' nobody, else a staff name
  AND ($10 = '' OR ($10 = '-' AND r.assignee_id IS NULL) OR a.name = $10)
  -- a torrent's reports: about the torrent, or listing it in the evidence
  AND ($8 = 0 OR (r.subject_kind = 'torrent' AND r.subject_id = $8::text)
       OR r.evidence->'torrents' @> jsonb_build_array(jsonb_build_object('torrent_id', $8::bigint)))
-- ORDER BY, OFFSET $9 and LIMIT $6 follow, from reportOrders (store.go): one
-- plain order per sort, so that newest first reads the primary key backwards.
