package setup_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ratioguard/ratioguard/internal/testenv"
	"github.com/ratioguard/ratioguard/sim/eval"
	"github.com/ratioguard/ratioguard/sim/population"
	"github.com/ratioguard/ratioguard/sim/setup"
	"github.com/ratioguard/ratioguard/sim/spec"
)

func TestSetupIsIdempotentAndEvalReadsReports(t *testing.T) {
	pg := testenv.Postgres(t)
	ctx := context.Background()
	s := spec.Default()
	build := func() *population.Population {
		p, err := population.Build(s, s.Start, s.Start.Add(s.Duration))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	run := setup.Run{Name: "sim1", Seed: s.Seed, SpecName: s.Name}
	p1 := build()
	set1, err := setup.Apply(ctx, pg.Pool, run, p1)
	if err != nil {
		t.Fatal(err)
	}
	p2 := build()
	if _, err := setup.Apply(ctx, pg.Pool, run, p2); err != nil {
		t.Fatalf("second setup: %v", err)
	}
	for i := range p1.Members {
		if p1.Members[i].ID != p2.Members[i].ID {
			t.Fatalf("member %d got id %d then %d", i, p1.Members[i].ID, p2.Members[i].ID)
		}
	}
	var users, torrents, ranges int
	if err := pg.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM torrents), (SELECT count(*) FROM seedbox_ranges)`).Scan(&users, &torrents, &ranges); err != nil {
		t.Fatal(err)
	}
	if users != len(p1.Members) || torrents != len(p1.Torrents) || ranges != len(p1.SeedboxRanges) {
		t.Fatalf("rows: %d users, %d torrents, %d ranges; want %d, %d, %d", users, torrents, ranges, len(p1.Members), len(p1.Torrents), len(p1.SeedboxRanges))
	}
	// The invite tree is in users.invited_by.
	ids, inviters := make([]int64, len(p1.Members)), make([]*int64, len(p1.Members))
	for i, m := range p1.Members {
		ids[i] = int64(m.ID)
		if m.InvitedBy != nil {
			v := int64(m.InvitedBy.ID)
			inviters[i] = &v
		}
	}
	var invited, wrong int
	if err := pg.Pool.QueryRow(ctx, `SELECT count(u.invited_by), count(*) FILTER (WHERE v.inviter IS DISTINCT FROM u.invited_by)
		FROM users u JOIN unnest($1::bigint[], $2::bigint[]) AS v (id, inviter) ON v.id = u.id`, ids, inviters).Scan(&invited, &wrong); err != nil {
		t.Fatal(err)
	}
	if invited < len(p1.Members)/2 || wrong != 0 {
		t.Fatalf("invite tree in users: %d of %d members invited, %d wrong", invited, len(p1.Members), wrong)
	}
	loaded, err := setup.LoadLabels(ctx, pg.Pool, "sim1")
	if err != nil {
		t.Fatal(err)
	}
	if len(loaded.Labels) != len(set1.Labels) || loaded.Members != len(p1.Members) {
		t.Fatalf("loaded %d labels for %d members, stored %d", len(loaded.Labels), loaded.Members, len(set1.Labels))
	}

	// One report on a cheater (by user id), one on a look-alike (by passkey).
	var cheater, look *population.Member
	for _, m := range p1.Members {
		if m.Cheat != "" && cheater == nil {
			cheater = m
		}
		if len(m.Lookalikes) > 0 && look == nil {
			look = m
		}
	}
	now := time.Now()
	for _, r := range []struct{ kind, id string }{{"user", fmt.Sprint(cheater.ID)}, {"passkey", look.Passkey}} {
		if _, err := pg.Pool.Exec(ctx, `INSERT INTO cheat_reports (detector, subject_kind, subject_id, window_start, window_end, score, severity)
			VALUES ('test_detector', $1, $2, $3, $3, 1, 'high')`, r.kind, r.id, now); err != nil {
			t.Fatal(err)
		}
	}
	flags, err := eval.LoadFlags(ctx, pg.Pool, "sim1")
	if err != nil {
		t.Fatal(err)
	}
	rep := eval.Evaluate(loaded, flags, eval.Options{})
	d := rep.Detectors[0]
	if d.Detector != "test_detector" || d.TruePositives != 1 || d.FalsePositives != 1 || d.ByKind[string(cheater.Cheat)].Flagged != 1 {
		t.Fatalf("evaluation %+v", d)
	}
	if d.Lookalikes[string(look.Lookalikes[0])].Flagged != 1 {
		t.Fatalf("look-alike %s not counted: %+v", look.Lookalikes[0], d.Lookalikes)
	}
	if _, err := setup.LoadLabels(ctx, pg.Pool, "nope"); err == nil {
		t.Fatal("labels of an unknown run loaded without error")
	}
}
