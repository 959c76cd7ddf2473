package enforce_test

import (
	"math"
	"testing"
	"time"
)

func TestSeedingBonusAccruesPerHourOnce(t *testing.T) {
	f := newFixture(t)
	a, b := f.user("hank", "member"), f.user("ivy", "member")
	busy, lonely := f.torrent("busy", 4*gib), f.torrent("lonely", 16*gib)
	now := t0.Add(-5 * time.Minute)
	f.snatch(snatch{user: a, torrent: busy, downloaded: 4 * gib, seedtime: 3*time.Hour + 30*time.Minute,
		snatchedAt: at(t0.Add(-4 * time.Hour)), first: t0.Add(-4 * time.Hour), last: now})
	f.snatch(snatch{user: b, torrent: busy, seedtime: 10 * time.Hour, first: t0.Add(-20 * time.Hour), last: now})
	f.snatch(snatch{user: a, torrent: lonely, seedtime: 2 * time.Hour, first: t0.Add(-3 * time.Hour), last: now})
	f.totals(a, 10*gib, 4*gib)

	res := f.runTwice()
	if len(res.Planned) != 2 {
		t.Fatalf("planned %+v", res.Planned)
	}
	// hank: 3 h on busy (4 GiB: weight 2, 2 seeders: ×2) = 12, 2 h on lonely
	// (16 GiB: weight 4, alone: ×3) = 24. ivy: 10 h on busy = 40.
	points := func(u int64) float64 {
		var p float64
		f.scalar(&p, `SELECT bonus_points::float8 FROM ledger_user_totals WHERE user_id = $1`, u)
		return p
	}
	if got := points(a); math.Abs(got-36) > 1e-9 {
		t.Fatalf("hank: %g points, want 36", got)
	}
	if got := points(b); math.Abs(got-40) > 1e-9 {
		t.Fatalf("ivy: %g points, want 40", got)
	}
	var adj int
	f.scalar(&adj, `SELECT count(*) FROM ledger_adjustments WHERE actor = 'enforce/bonus' AND bonus_points > 0`)
	if adj != 2 {
		t.Fatalf("%d bonus adjustments, want 2", adj)
	}

	// Half an hour more: hank's busy torrent completes its 4th hour (the
	// leftover 30 min carried over); nothing else has a whole new hour.
	f.clock.Advance(30 * time.Minute)
	f.snatch(snatch{user: a, torrent: busy, downloaded: 4 * gib, seedtime: 4 * time.Hour,
		snatchedAt: at(t0.Add(-4 * time.Hour)), first: t0.Add(-4 * time.Hour), last: f.clock.Now()})
	res = f.runTwice()
	if len(res.Planned) != 1 || res.Planned[0].Member != "hank" {
		t.Fatalf("planned %+v", res.Planned)
	}
	if got := points(a); math.Abs(got-40) > 1e-9 {
		t.Fatalf("hank after 4th hour: %g points, want 40", got)
	}
}
