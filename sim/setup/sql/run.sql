-- The run itself; a re-run replaces its row and, by cascade, its labels.
INSERT INTO sim_runs (run, seed, spec_name, user_prefix, members, sim_start, sim_end)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (run) DO UPDATE SET seed = EXCLUDED.seed, spec_name = EXCLUDED.spec_name,
    user_prefix = EXCLUDED.user_prefix, members = EXCLUDED.members,
    sim_start = EXCLUDED.sim_start, sim_end = EXCLUDED.sim_end, created_at = now()
