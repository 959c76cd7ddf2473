package store

import _ "embed" // SQL lives in sql/*.sql

var (
	//go:embed sql/members.sql
	membersSQL string
	//go:embed sql/hnr_candidates.sql
	hnrCandidatesSQL string
	//go:embed sql/hnr_active.sql
	hnrActiveSQL string
	//go:embed sql/bonus_candidates.sql
	bonusCandidatesSQL string
	//go:embed sql/verdicts.sql
	verdictsSQL string
	//go:embed sql/seed_sample.sql
	seedSampleSQL string
	//go:embed sql/seed_prune.sql
	seedPruneSQL string
	//go:embed sql/leech_state.sql
	leechStateSQL string
	//go:embed sql/bonus_credit.sql
	bonusCreditSQL string
)
