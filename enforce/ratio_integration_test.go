package enforce_test

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// belowRequirement: 25 GiB downloaded, 1 GiB uploaded, one snatch not
// seeded over the last week: required 0.30, ratio 0.04. The seeding bonus is
// switched off so the ratio rule is alone.
func belowRequirement(f *fixture, name string) int64 {
	f.cfg.Bonus.PointsPerHour = 0
	u := f.user(name, "member")
	tor := f.torrent(name+"-t", 2*gib)
	f.totals(u, 1*gib, 25*gib)
	f.snatch(snatch{user: u, torrent: tor, downloaded: 2 * gib, snatchedAt: at(t0.Add(-20 * 24 * time.Hour)),
		first: t0.Add(-20 * 24 * time.Hour), last: t0.Add(-19 * 24 * time.Hour), left: 0, seedtime: 80 * time.Hour})
	return u
}

func TestRatioWatchExpiresDisablesLeechingAndRecovers(t *testing.T) {
	f := newFixture(t)
	u := belowRequirement(f, "alice")
	ok := f.user("bob", "member")
	f.totals(ok, 40*gib, 25*gib)
	notes := f.listen()

	res := f.runTwice()
	if len(res.Planned) != 1 || res.Planned[0].Rule != "ratio" || !strings.Contains(res.Planned[0].Planned, "ratio watch until") {
		t.Fatalf("planned %+v", res.Planned)
	}
	if m := f.member(u); m.Watch != "watch" || !m.CanLeech {
		t.Fatalf("after start: %+v", m)
	}

	// Still on watch 13 days later: nothing.
	f.clock.Advance(13 * 24 * time.Hour)
	if res := f.run(); res.Changes != 0 {
		t.Fatalf("day 13: %+v", res.Planned)
	}

	// Watch runs out: leeching disabled at once and the tracker is told.
	f.clock.Advance(24 * time.Hour)
	res = f.runTwice()
	if len(res.Planned) != 1 || !strings.Contains(res.Planned[0].Planned, "leeching disabled") {
		t.Fatalf("expiry planned %+v", res.Planned)
	}
	f.expectNotify(notes, u)
	if m := f.member(u); m.CanLeech || m.Watch != "disabled" || !m.Held {
		t.Fatalf("after expiry: %+v", m)
	}

	// Ratio fixed: leeching comes back.
	f.totals(u, 12*gib, 25*gib)
	res = f.runTwice()
	if len(res.Planned) != 1 || !strings.Contains(res.Planned[0].Planned, "leeching restored") {
		t.Fatalf("recovery planned %+v", res.Planned)
	}
	f.expectNotify(notes, u)
	if m := f.member(u); !m.CanLeech || m.Watch != "" || m.Held {
		t.Fatalf("after recovery: %+v", m)
	}
	want := []string{"ratio_watch.start", "ratio_watch.disable_expired", "ratio_watch.restore"}
	if got := f.auditActions(u); !slices.Equal(got, want) {
		t.Fatalf("audit actions %v, want %v", got, want)
	}
	if got := f.auditActions(ok); len(got) != 0 {
		t.Fatalf("member above the requirement was touched: %v", got)
	}
	var before, after string
	f.scalar(&before, `SELECT before::text FROM audit_log WHERE action = 'ratio_watch.disable_expired'`)
	f.scalar(&after, `SELECT after::text FROM audit_log WHERE action = 'ratio_watch.disable_expired'`)
	if !strings.Contains(before, `"can_leech": true`) || !strings.Contains(after, `"can_leech": false`) ||
		!strings.Contains(before, `"required_ratio": 0.3`) {
		t.Fatalf("audit before %s after %s", before, after)
	}
}

func TestDownloadingTooMuchOnWatchDisablesAtOnce(t *testing.T) {
	f := newFixture(t)
	u := belowRequirement(f, "carol")
	f.run()
	f.clock.Advance(24 * time.Hour)
	f.totals(u, 1*gib, 35*gib) // exactly 10 GiB more: allowed
	if res := f.run(); res.Changes != 0 {
		t.Fatalf("10 GiB during watch: %+v", res.Planned)
	}
	f.totals(u, 1*gib, 35*gib+1)
	res := f.runTwice()
	if len(res.Planned) != 1 || !strings.Contains(res.Planned[0].Planned, "during watch") {
		t.Fatalf("planned %+v", res.Planned)
	}
	if m := f.member(u); m.CanLeech || m.Watch != "disabled" {
		t.Fatalf("after download limit: %+v", m)
	}
}

func TestRecoveringOnWatchClearsIt(t *testing.T) {
	f := newFixture(t)
	u := belowRequirement(f, "dave")
	f.run()
	f.totals(u, 10*gib, 25*gib)
	f.clock.Advance(time.Hour)
	res := f.runTwice()
	if len(res.Planned) != 1 || !strings.Contains(res.Planned[0].Planned, "cleared") {
		t.Fatalf("planned %+v", res.Planned)
	}
	if m := f.member(u); !m.CanLeech || m.Watch != "" {
		t.Fatalf("after clear: %+v", m)
	}
}

// Leeching that staff turned off by hand is never turned back on by enforce.
func TestStaffDisabledLeechingStaysOff(t *testing.T) {
	f := newFixture(t)
	u := belowRequirement(f, "erin")
	f.exec(`UPDATE users SET can_leech = FALSE WHERE id = $1`, u)
	f.run()
	f.clock.Advance(15 * 24 * time.Hour)
	f.run()
	if m := f.member(u); m.Held || m.Watch != "disabled" {
		t.Fatalf("enforce took over a hand-made block: %+v", m)
	}
	f.totals(u, 20*gib, 25*gib)
	f.run()
	if m := f.member(u); m.CanLeech || m.Watch != "" {
		t.Fatalf("enforce turned on leeching staff turned off: %+v", m)
	}
}

// A snatch seeded 72 h over the last week lowers the requirement (Gazelle):
// the week is measured from the daily seedtime samples.
func TestWeeklySeedingLowersTheRequirement(t *testing.T) {
	f := newFixture(t)
	f.cfg.Bonus.PointsPerHour = 0
	u := f.user("frank", "member")
	f.totals(u, 3*gib, 25*gib) // ratio 0.12: below 0.30 (nothing seeded), above 0.05 (all seeded)
	var tors []int64
	for i := range 2 {
		tor := f.torrent("frank-"+string(rune('a'+i)), gib)
		tors = append(tors, tor)
		f.snatch(snatch{user: u, torrent: tor, downloaded: gib, snatchedAt: at(t0.Add(-30 * 24 * time.Hour)),
			first: t0.Add(-30 * 24 * time.Hour), last: t0.Add(-2 * time.Hour), left: 0, seedtime: 100 * time.Hour})
	}
	// First pass: no sample a week old yet, and neither is being seeded now
	// (last announce 2 h ago): nothing counts as seeded, the member goes on watch.
	res := f.run()
	if len(res.Planned) != 1 || !strings.Contains(res.Planned[0].Current, "required 0.30") {
		t.Fatalf("day 0: %+v", res.Planned)
	}
	// A week later both were seeded 80 h since the day-0 sample: share 1,
	// required 0.05, ratio 0.12: cleared.
	f.clock.Advance(7 * 24 * time.Hour)
	for _, tor := range tors {
		f.snatch(snatch{user: u, torrent: tor, downloaded: gib, snatchedAt: at(t0.Add(-30 * 24 * time.Hour)),
			first: t0.Add(-30 * 24 * time.Hour), last: f.clock.Now().Add(-10 * time.Minute), left: 0, seedtime: 180 * time.Hour})
	}
	res = f.runTwice()
	if len(res.Planned) != 1 || !strings.Contains(res.Planned[0].Current, "seeded 2/2") ||
		!strings.Contains(res.Planned[0].Planned, "cleared") {
		t.Fatalf("day 7: %+v", res.Planned)
	}
}
