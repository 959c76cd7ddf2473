package enforce_test

import (
	"strings"
	"testing"
	"time"
)

func TestThreeHitAndRunWarningsDisableLeeching(t *testing.T) {
	f := newFixture(t)
	f.cfg.Bonus.PointsPerHour = 0
	u := f.user("gina", "member")
	f.totals(u, 100*gib, 10*gib) // ratio fine: hit-and-run alone
	notes := f.listen()
	var tors []int64
	for i, seeded := range []time.Duration{time.Hour, 2 * time.Hour, 0, 72 * time.Hour} {
		tor := f.torrent("gina-"+string(rune('a'+i)), 4*gib)
		tors = append(tors, tor)
		f.snatch(snatch{user: u, torrent: tor, downloaded: 4 * gib, seedtime: seeded,
			snatchedAt: at(t0.Add(-13 * 24 * time.Hour)), first: t0.Add(-13 * 24 * time.Hour), last: t0.Add(-12 * 24 * time.Hour)})
	}
	small := f.torrent("gina-peek", 100*gib) // 5% downloaded: not a snatch
	f.snatch(snatch{user: u, torrent: small, downloaded: 5 * gib, first: t0.Add(-20 * 24 * time.Hour), last: t0.Add(-20 * 24 * time.Hour), left: 95 * gib})

	if res := f.run(); res.Changes != 0 {
		t.Fatalf("before the deadline: %+v", res.Planned)
	}
	f.clock.Advance(24 * time.Hour) // deadline: 14 days after the snatch
	res := f.runTwice()
	if len(res.Planned) != 3 {
		t.Fatalf("want 3 warnings (the 72 h seed and the 5%% peek are fine), got %+v", res.Planned)
	}
	if !strings.Contains(res.Planned[2].Planned, "leeching disabled") {
		t.Fatalf("third warning must disable leeching: %+v", res.Planned[2])
	}
	f.expectNotify(notes, u)
	if m := f.member(u); m.CanLeech || !m.Held {
		t.Fatalf("after 3 warnings: %+v", m)
	}

	// The member seeds one of them for 72 h: that warning is lifted and with
	// two left leeching comes back.
	f.clock.Advance(3 * 24 * time.Hour)
	f.snatch(snatch{user: u, torrent: tors[0], downloaded: 4 * gib, seedtime: 73 * time.Hour,
		snatchedAt: at(t0.Add(-13 * 24 * time.Hour)), first: t0.Add(-13 * 24 * time.Hour), last: f.clock.Now()})
	res = f.runTwice()
	if len(res.Planned) != 1 || !strings.Contains(res.Planned[0].Planned, "lifted (seeded); leeching restored") {
		t.Fatalf("lift: %+v", res.Planned)
	}
	f.expectNotify(notes, u)
	if m := f.member(u); !m.CanLeech || m.Held {
		t.Fatalf("after lift: %+v", m)
	}

	// The other two expire 28 days after their deadline.
	f.clock.Advance(26 * 24 * time.Hour)
	res = f.runTwice()
	if len(res.Planned) != 2 || !strings.Contains(res.Planned[0].Planned, "expired") {
		t.Fatalf("expiry: %+v", res.Planned)
	}
	var active int
	f.scalar(&active, `SELECT count(*) FROM enforce_hnr_warnings WHERE lifted_at IS NULL`)
	if active != 0 {
		t.Fatalf("%d warnings still active", active)
	}
}

func TestExemptClassGetsNoWarning(t *testing.T) {
	f := newFixture(t)
	f.cfg.Bonus.PointsPerHour = 0
	tor := f.torrent("s", gib)
	// The built-in class and sites' own names in any case (DefaultExemptClasses).
	for _, c := range []string{"staff", "SysOp", "Staff Leader", "UPLOADER"} {
		u := f.user("staffer "+c, c)
		f.snatch(snatch{user: u, torrent: tor, downloaded: gib, snatchedAt: at(t0.Add(-15 * 24 * time.Hour)),
			first: t0.Add(-15 * 24 * time.Hour), last: t0.Add(-15 * 24 * time.Hour)})
		f.totals(u, 0, 50*gib)
	}
	if res := f.run(); res.Changes != 0 {
		t.Fatalf("exempt class: %+v", res.Planned)
	}
	// A site's member class is not exempt.
	u := f.user("master", "Nexus Master")
	f.snatch(snatch{user: u, torrent: tor, downloaded: gib, snatchedAt: at(t0.Add(-15 * 24 * time.Hour)),
		first: t0.Add(-15 * 24 * time.Hour), last: t0.Add(-15 * 24 * time.Hour)})
	f.totals(u, 0, 50*gib)
	if res := f.run(); res.Changes == 0 {
		t.Fatal("member of class Nexus Master got no warning")
	}
}

// A site whose own rules have no hit-and-run (Gazelle/OPS) turns it off: no
// new warning, while a warning already active still lifts as it would.
func TestHitAndRunOff(t *testing.T) {
	f := newFixture(t)
	f.cfg.Bonus.PointsPerHour = 0
	u := f.user("hal", "member")
	f.totals(u, 100*gib, 10*gib)
	for i := range 4 {
		tor := f.torrent("hal-"+string(rune('a'+i)), 4*gib)
		f.snatch(snatch{user: u, torrent: tor, downloaded: 4 * gib, snatchedAt: at(t0.Add(-15 * 24 * time.Hour)),
			first: t0.Add(-15 * 24 * time.Hour), last: t0.Add(-15 * 24 * time.Hour)})
	}
	if res := f.run(); len(res.Planned) != 4 {
		t.Fatalf("with hit-and-run on: %+v", res.Planned)
	}
	f.cfg.HnR.Enabled = false
	tor := f.torrent("hal-late", 4*gib)
	f.snatch(snatch{user: u, torrent: tor, downloaded: 4 * gib, snatchedAt: at(t0.Add(-15 * 24 * time.Hour)),
		first: t0.Add(-15 * 24 * time.Hour), last: t0.Add(-15 * 24 * time.Hour)})
	if res := f.run(); res.Changes != 0 {
		t.Fatalf("hit-and-run off planned %+v", res.Planned)
	}
	f.clock.Advance(28 * 24 * time.Hour) // the four expire
	res := f.runTwice()
	if len(res.Planned) != 4 || !strings.Contains(res.Planned[1].Planned, "lifted (expired); leeching restored") {
		t.Fatalf("off, the active warnings still lift: %+v", res.Planned)
	}
}
