-- A named run's members, found by name (an import created them); returns the
-- id and name of each one found.
WITH m AS (SELECT id, name FROM users WHERE name = ANY($2::text[])),
     ins AS (INSERT INTO sim_run_members (run, user_id) SELECT $1, id FROM m)
SELECT id, name FROM m
