-- A member's leeching flag, enforce's hold on it and every block, locked for
-- update. $2 is the number of active hit-and-run warnings that blocks.
SELECT u.can_leech, h.user_id IS NOT NULL, COALESCE(h.reason, ''),
       COALESCE((SELECT w.state = 'disabled' FROM enforce_ratio_watch w WHERE w.user_id = u.id), FALSE),
       (SELECT count(*) FROM enforce_hnr_warnings w WHERE w.user_id = u.id AND w.lifted_at IS NULL)::int,
       COALESCE((SELECT array_agg(b.report_id ORDER BY b.report_id) FROM enforce_leech_blocks b
                 WHERE b.user_id = u.id), '{}')
FROM users u
LEFT JOIN enforce_leech_holds h ON h.user_id = u.id
WHERE u.id = $1
FOR UPDATE OF u
