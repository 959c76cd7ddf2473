package detectors

import (
	"context"
	"testing"
	"time"

	"github.com/ratioguard/ratioguard/internal/testenv"
)

func TestStoreOneOpenReportAndDismissedStaysDismissed(t *testing.T) {
	pg := testenv.Postgres(t)
	ctx := context.Background()
	s := &Store{PG: pg.Pool, MaterialIncrease: 1.5}
	f := Finding{Detector: "faked_upload", Kind: SubjectUser, SubjectID: "7", UserID: 7,
		WindowStart: until.Add(-time.Hour), WindowEnd: until, Score: 0.7, Magnitude: 100,
		Evidence: Evidence{Summary: "first"}}
	step := func(f Finding, want Outcome) {
		t.Helper()
		got, err := s.Upsert(ctx, f)
		if err != nil || got != want {
			t.Fatalf("upsert = %s, %v; want %s", got, err, want)
		}
	}
	step(f, Inserted)
	f.Score, f.Evidence.Summary, f.WindowEnd = 0.8, "stronger", until.Add(time.Hour)
	step(f, Updated)
	f.Score = 0.6
	step(f, Touched)
	open, err := s.List(ctx, "open", "", 10)
	if err != nil || len(open) != 1 || open[0].Score != 0.8 || !open[0].WindowEnd.Equal(until.Add(time.Hour)) {
		t.Fatalf("open reports = %+v, %v", open, err)
	}
	if _, err := pg.Pool.Exec(ctx, "UPDATE cheat_reports SET status = 'dismissed', reviewed_at = now() WHERE id = $1", open[0].ID); err != nil {
		t.Fatal(err)
	}
	f.Score, f.Magnitude = 0.8, 120 // same severity, not 1.5× the magnitude
	step(f, Suppressed)
	f.Magnitude = 200
	step(f, Inserted)
	all, err := s.List(ctx, "", "faked_upload", 10)
	if err != nil || len(all) != 2 || all[0].Status != "open" || all[1].Status != "dismissed" {
		t.Fatalf("reports after reopening = %+v, %v", all, err)
	}
}

func TestInviteTreeAndRunnerExemptions(t *testing.T) {
	pg := testenv.Postgres(t)
	ctx := context.Background()
	var inviter, staff int64
	mk := func(name, class string, invitedBy *int64) int64 {
		var id int64
		err := pg.Pool.QueryRow(ctx, `INSERT INTO users (name, passkey, class, invited_by) VALUES ($1, md5($1), $2, $3) RETURNING id`,
			name, class, invitedBy).Scan(&id)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	inviter = mk("inviter", "member", nil)
	staff = mk("mod", "staff", nil)
	// Two bad invitees of two stand out only against a site where few are bad.
	if _, err := pg.Pool.Exec(ctx, `INSERT INTO users (name, passkey, invited_by) SELECT 'crowd' || i, md5('crowd' || i), $1 FROM generate_series(1, 200) AS i`, staff); err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	r, err := NewRunner(ctx, cfg, pg.Pool, nil, nil, []Detector{InviteTree{}})
	if err != nil {
		t.Fatal(err)
	}
	confirmBadInvitees(t, r.Store, func(name string) int64 { return mk(name, "member", &inviter) })
	r.Torrents = nil // no ClickHouse in this test
	stats, found, err := r.Pass(ctx, time.Time{}, until, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 1 || found[0].UserID != uint64(inviter) || stats[0].Inserted != 1 {
		t.Fatalf("invite tree findings = %+v, stats %+v", found, stats)
	}
	if _, ok := r.Env.Exempt.UserExempt(uint64(staff)); !ok {
		t.Errorf("staff-class member %d is not exempt", staff)
	}
}
