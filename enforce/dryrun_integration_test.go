package enforce_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ratioguard/ratioguard/enforce"
)

// A dry run plans every kind of change, prints it as the table, and leaves
// the database exactly as it was; the real pass then applies the same plan.
func TestDryRunPrintsPlanAndChangesNothing(t *testing.T) {
	f := newFixture(t)
	u := belowRequirement(f, "mia")
	f.cfg.Bonus.PointsPerHour = 1
	tor := f.torrent("mia-hnr", gib)
	f.snatch(snatch{user: u, torrent: tor, downloaded: gib, snatchedAt: at(t0.Add(-15 * 24 * time.Hour)),
		first: t0.Add(-15 * 24 * time.Hour), last: t0.Add(-15 * 24 * time.Hour)})
	cheat := f.user("ned", "member")
	f.report("user", fmt.Sprint(cheat), "confirmed", []string{"disable_leech"}, nil)

	fp := f.fingerprint()
	runs, samples := f.count("enforce_runs"), f.count("enforce_seed_samples")
	dry, err := f.runner(true).Once(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if f.fingerprint() != fp || f.count("enforce_runs") != runs || f.count("enforce_seed_samples") != samples {
		t.Fatal("dry run changed the database")
	}
	rules := map[string]bool{}
	for _, r := range dry.Planned {
		rules[r.Rule] = true
	}
	for _, want := range []string{"ratio", "hnr", "bonus", "verdict/disable_leech"} {
		if !rules[want] {
			t.Errorf("dry run did not plan a %s change: %+v", want, dry.Planned)
		}
	}
	var out bytes.Buffer
	if err := enforce.WriteTable(&out, dry.Planned); err != nil {
		t.Fatal(err)
	}
	table := out.String()
	for _, want := range []string{"MEMBER", "RULE", "CURRENT", "PLANNED", "mia (#", "ratio 0.040, required 0.30", "ratio watch until",
		"hit-and-run warning", "leech block; leeching disabled", fmt.Sprintf("%d planned changes", len(dry.Planned))} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	real := f.runTwice()
	if len(real.Planned) != len(dry.Planned) {
		t.Fatalf("real pass planned %d rows, dry run %d", len(real.Planned), len(dry.Planned))
	}
}

func TestSecondRunnerIsLockedOut(t *testing.T) {
	f := newFixture(t)
	conn, err := f.pg.Pool.Acquire(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(f.ctx, `SELECT pg_advisory_lock($1)`, int64(0x7267_656e_666f_7263)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.runner(false).Once(f.ctx); err != enforce.ErrLocked {
		t.Fatalf("got %v, want ErrLocked", err)
	}
	if _, err := conn.Exec(f.ctx, `SELECT pg_advisory_unlock($1)`, int64(0x7267_656e_666f_7263)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.runner(false).Once(f.ctx); err != nil {
		t.Fatal(err)
	}
}
