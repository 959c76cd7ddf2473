-- +goose Up
-- Runs from another generator (popgen, imported with `ratioguard import site`)
-- have member names without a common prefix: their membership is explicit.
-- A run has a user_prefix (sim/), or rows here, or both.
ALTER TABLE sim_runs ALTER COLUMN user_prefix DROP NOT NULL;
CREATE TABLE sim_run_members (
    run     TEXT NOT NULL REFERENCES sim_runs (run) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (run, user_id)
);
CREATE INDEX sim_run_members_user ON sim_run_members (user_id);

-- +goose Down
DROP TABLE sim_run_members;
DELETE FROM sim_runs WHERE user_prefix IS NULL;
ALTER TABLE sim_runs ALTER COLUMN user_prefix SET NOT NULL;
