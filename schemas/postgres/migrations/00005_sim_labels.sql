-- +goose Up
-- Simulator runs (sim/): one row per run that created members here, so eval
-- can count every simulated member, not only the labelled ones.
CREATE TABLE sim_runs (
    run         TEXT PRIMARY KEY CHECK (run <> ''),
    seed        BIGINT NOT NULL,
    spec_name   TEXT NOT NULL,
    user_prefix TEXT NOT NULL CHECK (user_prefix <> ''),
    members     INTEGER NOT NULL CHECK (members > 0),
    sim_start   TIMESTAMPTZ NOT NULL,
    sim_end     TIMESTAMPTZ NOT NULL CHECK (sim_end > sim_start),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Ground truth of a run: which simulated members cheat (role 'cheater'), how
-- (kind) and since when, and which honest members look like cheaters (role
-- 'lookalike': seedbox, nat_household, cgnat, dual_stack, ipv6_privacy,
-- restarts, travel). Eval compares cheat_reports with it.
CREATE TABLE sim_labels (
    run        TEXT NOT NULL REFERENCES sim_runs (run) ON DELETE CASCADE,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       TEXT NOT NULL CHECK (role IN ('cheater', 'lookalike')),
    kind       TEXT NOT NULL CHECK (kind <> ''),
    started_at TIMESTAMPTZ NOT NULL,
    partner_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    PRIMARY KEY (run, user_id, kind)
);
CREATE INDEX sim_labels_user ON sim_labels (user_id);

-- +goose Down
DROP TABLE sim_labels, sim_runs;
