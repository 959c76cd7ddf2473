-- Who invited each member ($2 0: nobody); rows already right are not touched
-- (no NOTIFY for nothing).
UPDATE users u SET invited_by = NULLIF(v.inviter, 0), updated_at = now()
FROM unnest($1::bigint[], $2::bigint[]) AS v (id, inviter)
WHERE u.id = v.id AND u.invited_by IS DISTINCT FROM NULLIF(v.inviter, 0)
