package enforce_test

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"
)

// TestEnforceScale measures passes over a synthetic population of
// RG_ENFORCE_SCALE members (5 snatches each, a mix of ratios, seeding and
// hit-and-runs). Skipped unless the variable is set; figures go to
// docs/BENCHMARKS.md ("enforce" section).
func TestEnforceScale(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("RG_ENFORCE_SCALE"))
	if n <= 0 {
		t.Skip("set RG_ENFORCE_SCALE=N to measure enforce passes over N members")
	}
	f := newFixture(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	f.ctx = ctx
	torrents := max(n/5, 5)
	start := time.Now()
	f.exec(`INSERT INTO users (name, passkey) SELECT 'u' || g, md5('u' || g) FROM generate_series(1, $1::int) g`, n)
	f.exec(`INSERT INTO torrents (info_hash, name, size)
		SELECT decode(substr(md5('t' || g) || md5('x' || g), 1, 40), 'hex'), 't' || g, ((g % 20) + 1)::bigint * 268435456
		FROM generate_series(1, $1::int) g`, torrents)
	f.exec(`INSERT INTO ledger_user_totals (user_id, credited_uploaded, credited_downloaded)
		SELECT id, (id % 150)::numeric * 1073741824 * (id % 7) / 10, (id % 150)::numeric * 1073741824 FROM users`)
	f.exec(`INSERT INTO ledger_user_torrents (user_id, torrent_id, raw_downloaded, credited_downloaded, seedtime_seconds,
			snatched_at, first_announce_at, last_announce_at, last_left)
		SELECT u.id, ((u.id * 5 + k) % $1::int) + 1, 268435456, 268435456, ((u.id + k) % 5) * 30 * 3600,
			$2::timestamptz - make_interval(days => (10 + ((u.id + k) % 30))::int),
			$2::timestamptz - make_interval(days => (10 + ((u.id + k) % 30))::int),
			$2::timestamptz - make_interval(mins => ((u.id * 7 + k) % 120)::int), 0
		FROM users u CROSS JOIN generate_series(0, 4) k`, torrents, t0)
	t.Logf("seeded %d members, %d torrents, %d snatches in %s", n, torrents, 5*n, time.Since(start).Round(time.Millisecond))

	measure := func(name string, dry bool) {
		t0 := time.Now()
		res, err := f.runner(dry).Once(f.ctx)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("FIGURE %-22s members=%d changes=%d applied=%d failed=%d load+plan=%s apply=%s total=%s",
			name, res.Members, res.Changes, res.Applied, res.Failed, time.Duration(res.LoadTime).Round(time.Millisecond),
			time.Duration(res.ApplyTime).Round(time.Millisecond), time.Since(t0).Round(time.Millisecond))
		if res.Failed > 0 {
			t.Fatalf("failures: %v", res.Errors[:min(3, len(res.Errors))])
		}
	}
	measure("dry-run", true)
	measure("first pass", false)
	measure("second pass (no-op)", false)
	f.clock.Advance(15 * 24 * time.Hour)
	measure("pass 15 days later", false)
}
