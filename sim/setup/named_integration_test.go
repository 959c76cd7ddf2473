package setup_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ratioguard/ratioguard/internal/testenv"
	"github.com/ratioguard/ratioguard/sim/eval"
	"github.com/ratioguard/ratioguard/sim/labels"
	"github.com/ratioguard/ratioguard/sim/setup"
)

// A named run (members an import created, names without a common prefix):
// ApplyNamed stores the run, its membership and its labels by name; eval
// then reads the reports about exactly those members, with their scores.
func TestApplyNamedRunAndEval(t *testing.T) {
	pg := testenv.Postgres(t)
	ctx := context.Background()
	names := []string{"Abird", "Bearli", "pandabear1985", "seedy", "quiet"}
	ids := map[string]int64{}
	for i, n := range append(names, "outsider") {
		var id int64
		if err := pg.Pool.QueryRow(ctx, `INSERT INTO users (name, passkey) VALUES ($1, $2) RETURNING id`, n, fmt.Sprintf("%032x", i+1)).Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids[n] = id
	}
	start := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	from := start.Add(36 * time.Hour)
	run := setup.Named{
		Run:     setup.Run{Name: "pg1", Seed: 1, SpecName: "popgen -seed 1"},
		Members: names,
		Start:   start, End: start.Add(21 * 24 * time.Hour),
		Labels: []labels.Named{
			{Name: "Abird", Role: labels.Cheater, Kind: labels.Inflater, Start: from},
			{Name: "Bearli", Role: labels.Cheater, Kind: "colluding_pair", Start: from, Partner: "pandabear1985"},
			{Name: "pandabear1985", Role: labels.Cheater, Kind: "colluding_pair", Start: from, Partner: "Bearli"},
			{Name: "seedy", Role: labels.Lookalike, Kind: "seedbox", Start: start},
			{Name: "seedy", Role: labels.Lookalike, Kind: labels.FreshRush, Start: start},
		},
	}
	for range 2 { // idempotent: a second load replaces the first
		if _, err := setup.ApplyNamed(ctx, pg.Pool, run); err != nil {
			t.Fatal(err)
		}
	}
	var prefix *string
	var members, rows int
	if err := pg.Pool.QueryRow(ctx, `SELECT user_prefix, members, (SELECT count(*) FROM sim_run_members WHERE run = 'pg1') FROM sim_runs WHERE run = 'pg1'`).Scan(&prefix, &members, &rows); err != nil {
		t.Fatal(err)
	}
	if prefix != nil || members != 5 || rows != 5 {
		t.Fatalf("run row: prefix %v, %d members, %d membership rows", prefix, members, rows)
	}
	set, err := setup.LoadLabels(ctx, pg.Pool, "pg1")
	if err != nil {
		t.Fatal(err)
	}
	if set.Members != 5 || len(set.Labels) != 5 {
		t.Fatalf("loaded %d labels for %d members", len(set.Labels), set.Members)
	}
	for _, l := range set.Labels {
		if int64(l.UserID) != ids[l.Name] {
			t.Errorf("label %s of %s has user %d, want %d", l.Kind, l.Name, l.UserID, ids[l.Name])
		}
		if l.Name == "Bearli" && int64(l.Partner) != ids["pandabear1985"] {
			t.Errorf("Bearli's partner %d, want %d", l.Partner, ids["pandabear1985"])
		}
		if l.Role == labels.Cheater && !l.Start.Equal(from) {
			t.Errorf("%s starts %s", l.Name, l.Start)
		}
	}

	report := func(det, kind, subject string, score float64) {
		t.Helper()
		if _, err := pg.Pool.Exec(ctx, `INSERT INTO cheat_reports (detector, subject_kind, subject_id, window_start, window_end, score, severity)
			VALUES ($1, $2, $3, $4, $4, $5, 'high')`, det, kind, subject, start, score); err != nil {
			t.Fatal(err)
		}
	}
	report("faked_upload", "user", fmt.Sprint(ids["Abird"]), 0.8)
	report("faked_upload", "user", fmt.Sprint(ids["seedy"]), 0.9)
	report("faked_upload", "user", fmt.Sprint(ids["outsider"]), 1)    // not of the run
	report("leaked_passkey", "passkey", fmt.Sprintf("%032x", 2), 0.7) // Bearli by passkey
	report("leaked_passkey", "passkey", fmt.Sprintf("user:%d", ids["quiet"]), 0.6)
	flags, err := eval.LoadFlags(ctx, pg.Pool, "pg1")
	if err != nil {
		t.Fatal(err)
	}
	if len(flags) != 4 {
		t.Fatalf("flags %+v, want 4 about the run's members", flags)
	}
	rep := eval.Evaluate(set, flags, eval.Options{})
	if rep.Cheaters != 3 || rep.Honest != 2 || rep.HonestFlagged != 2 || rep.HonestShare != 1 {
		t.Fatalf("report %+v", rep)
	}
	fu := rep.Detectors[0]
	if fu.Detector != "faked_upload" || fu.ByKind[labels.Inflater].Flagged != 1 || fu.Lookalikes[labels.FreshRush].Flagged != 1 {
		t.Fatalf("faked_upload %+v", fu)
	}
	// Queue by score: seedy 0.9 (wrong), Abird 0.8, Bearli 0.7, quiet 0.6 (wrong).
	if p, _ := rep.Queue.At(25); rep.Queue.Open != 4 || p.Right != 2 || p.Entries != 4 {
		t.Fatalf("queue %+v", rep.Queue)
	}

	// A member the import did not create fails the load and changes nothing.
	bad := run
	bad.Run.Name = "pg2"
	bad.Members = append([]string{"nobody"}, names...)
	if _, err := setup.ApplyNamed(ctx, pg.Pool, bad); err == nil || !strings.Contains(err.Error(), "nobody") {
		t.Fatalf("load with a missing member: %v", err)
	}
	if _, err := setup.LoadLabels(ctx, pg.Pool, "pg2"); err == nil {
		t.Fatal("failed load left a run behind")
	}
	bad = run
	bad.Run.Name = "pg3"
	bad.Labels = append(bad.Labels, labels.Named{Name: "Abird", Role: labels.Cheater, Kind: "colluding_pair", Start: from, Partner: "outsider"})
	if _, err := setup.ApplyNamed(ctx, pg.Pool, bad); err == nil || !strings.Contains(err.Error(), "outsider") {
		t.Fatalf("load with a partner outside the run: %v", err)
	}
}
