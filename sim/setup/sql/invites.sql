-- Who invited each member of a run (inviter 0: a founder, invited by nobody).
-- Rows already right are left alone (no NOTIFY to the tracker for nothing).
UPDATE users u SET invited_by = NULLIF(v.inviter, 0), updated_at = now()
FROM unnest($1::bigint[], $2::bigint[]) AS v (id, inviter)
WHERE u.id = v.id AND u.invited_by IS DISTINCT FROM NULLIF(v.inviter, 0)
