UPDATE cheat_reports
SET window_end = GREATEST(window_end, $2),
    evidence = evidence || jsonb_build_object('last_seen', $3::text),
    updated_at = now()
WHERE id = $1
