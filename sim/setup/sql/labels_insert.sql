INSERT INTO sim_labels (run, user_id, role, kind, started_at, partner_id)
SELECT $1, l.user_id, l.role, l.kind, l.started_at, NULLIF(l.partner_id, 0)
FROM unnest($2::bigint[], $3::text[], $4::text[], $5::timestamptz[], $6::bigint[])
    AS l (user_id, role, kind, started_at, partner_id)
