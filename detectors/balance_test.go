package detectors

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// A site of honest seeders, one client reporting twice its real upload and
// one pure faker, in swarms whose leechers acquire exactly what was really
// uploaded (plus noise): the fit blames the two cheaters and nobody else.
func TestSolveBalanceBlamesInflaterNotCoSeeders(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const gib = float64(1 << 30)
	var cells []balanceCell
	sizes := map[uint64]uint64{}
	for day := uint32(0); day < 7; day++ {
		for tor := uint64(1); tor <= 30; tor++ {
			sizes[tor] = 8 << 30
			var real float64
			for user := uint64(1); user <= 20; user++ {
				if rng.IntN(3) != 0 {
					continue
				}
				up := gib * (0.2 + rng.Float64())
				real += up
				claimed := up
				if user == 7 {
					claimed = 2 * up // inflater
				}
				cells = append(cells, balanceCell{Bucket: day, TorrentID: tor, UserID: user, Up: claimed})
			}
			if tor%5 == 0 {
				cells = append(cells, balanceCell{Bucket: day, TorrentID: tor, UserID: 99, Up: 3 * gib}) // pure faker
			}
			// Leechers acquire what was really sent, within 1 %.
			got := real * (1 + 0.01*(rng.Float64()-0.5))
			cells = append(cells, balanceCell{Bucket: day, TorrentID: tor, UserID: 100 + tor, Down: got * 0.6, AcqPeers: got * 0.6})
			cells = append(cells, balanceCell{Bucket: day, TorrentID: tor, UserID: 200 + tor, AcqMember: got * 0.4})
		}
	}
	v := solveBalance(cells, sizes, balanceNoise{Rel: 0.02, SizeShare: 0.01, Floor: 64 << 20}, 200)
	cfg := DefaultConfig().FakedUpload
	if a := v[7].Alpha; math.Abs(a-0.5) > 0.05 || !balanceFires(v[7], cfg) {
		t.Errorf("inflater: alpha %.3f z %.1f, want 0.5 and firing", a, v[7].Z)
	}
	if a := v[99].Alpha; a < 0.95 || !balanceFires(v[99], cfg) {
		t.Errorf("faker: alpha %.3f z %.1f, want 1 and firing", a, v[99].Z)
	}
	for user := uint64(1); user <= 20; user++ {
		if user == 7 {
			continue
		}
		if balanceFires(v[user], cfg) || v[user].Alpha > 0.05 {
			t.Errorf("honest seeder %d: alpha %.3f z %.1f", user, v[user].Alpha, v[user].Z)
		}
	}
	if len(v[7].Torrents) == 0 {
		t.Errorf("inflater verdict lacks its torrents")
	}
}

func TestCombineGatedNeedsPhysicalEvidence(t *testing.T) {
	style := Signal{Name: "fingerprint_mismatch", Fired: true, Weight: 0.6, Strength: 1}
	phys := Signal{Name: "swarm_balance", Fired: true, Weight: 1, Strength: 0.6}
	if got := combineGated([]Signal{style}, fuPhysical); got != 0 {
		t.Errorf("stylistic alone scored %.2f, want 0", got)
	}
	alone := combineGated([]Signal{phys}, fuPhysical)
	both := combineGated([]Signal{phys, style}, fuPhysical)
	if alone != 0.6 || both <= alone || both >= 1 {
		t.Errorf("physical %.3f, with stylistic %.3f: want 0.6 < both < 1", alone, both)
	}
}

// One swarm's accident (a downloader nobody saw) does not report an honest
// seeder whose other swarms balance; a faker alone on one torrent nobody
// downloads is reported all the same.
func TestBalanceNeedsEvidenceBeyondOneSwarm(t *testing.T) {
	const gib = float64(1 << 30)
	sizes := map[uint64]uint64{}
	var cells []balanceCell
	const bucket = 6 * 3600
	for b := uint32(0); b < 4; b++ {
		for tor := uint64(1); tor <= 3; tor++ {
			sizes[tor] = 1 << 30
			cells = append(cells,
				balanceCell{Bucket: b * bucket, TorrentID: tor, UserID: 1, Up: 0.3 * gib},
				balanceCell{Bucket: b * bucket, TorrentID: tor, UserID: 100 + tor, Down: 0.3 * gib})
		}
	}
	// Torrent 11: member 1 seeds a leecher that never announced, for three
	// days: less than one copy of the torrent, whoever took it.
	sizes[11] = 8 << 30
	for b := uint32(0); b < 12; b++ {
		cells = append(cells, balanceCell{Bucket: b * bucket, TorrentID: 11, UserID: 1, Up: 0.5 * gib})
	}
	// Torrent 12: member 2 claims 100 GiB nobody downloaded.
	sizes[12] = 8 << 30
	for b := uint32(0); b < 10; b++ {
		cells = append(cells, balanceCell{Bucket: b * bucket, TorrentID: 12, UserID: 2, Up: 10 * gib})
	}
	// Torrent 13, one bucket: member 5 uploads 4 GiB, 3.5 GiB of it to a
	// leecher nobody saw — less than one copy, far beyond balance_z_single.
	sizes[13] = 4 << 30
	cells = append(cells,
		balanceCell{Bucket: 0, TorrentID: 13, UserID: 5, Up: 4 * gib},
		balanceCell{Bucket: 0, TorrentID: 13, UserID: 105, Down: 0.5 * gib})
	for b := uint32(1); b < 8; b++ {
		cells = append(cells,
			balanceCell{Bucket: b * bucket, TorrentID: 13, UserID: 5, Up: 0.5 * gib},
			balanceCell{Bucket: b * bucket, TorrentID: 13, UserID: 105, Down: 0.5 * gib})
	}
	cfg := DefaultConfig().FakedUpload
	u := solveBalance(cells, sizes, balanceNoise{Rel: cfg.BalanceNoiseRel, SizeShare: cfg.BalanceNoiseSize, Floor: float64(cfg.BalanceNoiseFloor)}, 200)[5]
	if u.Z < cfg.BalanceZSingle {
		t.Fatalf("one bucket's unseen leecher: z %.1f under balance_z_single: the test would prove nothing", u.Z)
	}
	if balanceFires(u, cfg) {
		t.Errorf("honest seeder reported on one unseen leecher's copy: alpha %.2f z %.1f unexplained %.1f GiB of a %.1f GiB torrent",
			u.Alpha, u.Z, u.TopFake/gib, u.TopSize/gib)
	}
	v := solveBalance(cells, sizes, balanceNoise{Rel: 0.02, SizeShare: 0.02, Floor: 64 << 20}, 200)
	if v[1].Z < cfg.BalanceZ { // without the spread rule it would be reported
		t.Fatalf("the accident should stand out on its own (z %.1f): the test would prove nothing", v[1].Z)
	}
	if balanceFires(v[1], cfg) {
		t.Errorf("honest seeder reported on one swarm's accident: alpha %.2f z %.1f spread %.1f days %.1f", v[1].Alpha, v[1].Z, v[1].ZSpread, v[1].ZDays)
	}
	if !balanceFires(v[2], cfg) {
		t.Errorf("single-torrent faker not reported: alpha %.2f z %.1f spread %.1f", v[2].Alpha, v[2].Z, v[2].ZSpread)
	}
	if sig := balanceSignal(v[2], cfg); !sig.Fired || !strings.Contains(sig.Note, "more than a whole copy") {
		t.Errorf("signal %+v: want fired, saying more than a whole copy is unexplained in one swarm", sig)
	}
}

// Evidence in one swarm reports a member when it persists: a client that
// reports twice its real upload on the one torrent it seeds, for ten days,
// is reported although no second torrent backs it; an excess beyond a whole
// copy of a torrent that sits in one day (a burst nobody saw downloading)
// does not report a member whose other swarms balance.
func TestBalancePersistentExcessInOneSwarm(t *testing.T) {
	const gib = float64(1 << 30)
	const bucket = 6 * 3600
	sizes := map[uint64]uint64{1: 4 << 30, 2: 1 << 30, 3: 1 << 30, 4: 1 << 30, 5: 2 << 30}
	var cells []balanceCell
	for b := uint32(0); b < 40; b++ {
		at := b * bucket
		// Member 3 inflates torrent 1: 0.2 GiB real, 0.4 claimed a bucket.
		cells = append(cells,
			balanceCell{Bucket: at, TorrentID: 1, UserID: 3, Up: 0.4 * gib},
			balanceCell{Bucket: at, TorrentID: 1, UserID: 101, Down: 0.2 * gib})
		// Member 4 seeds torrents 2-4 for two days; they balance.
		for tor := uint64(2); tor <= 4 && b < 8; tor++ {
			cells = append(cells,
				balanceCell{Bucket: at, TorrentID: tor, UserID: 4, Up: 0.3 * gib},
				balanceCell{Bucket: at, TorrentID: tor, UserID: 100 + tor, Down: 0.3 * gib})
		}
	}
	// Torrent 5, day 0: member 4 uploads 8 GiB (4 copies) nobody was seen
	// downloading.
	for b := uint32(0); b < 4; b++ {
		cells = append(cells, balanceCell{Bucket: b * bucket, TorrentID: 5, UserID: 4, Up: 2 * gib})
	}
	v := solveBalance(cells, sizes, balanceNoise{Rel: 0.02, SizeShare: 0.02, Floor: 64 << 20}, 200)
	cfg := DefaultConfig().FakedUpload
	inf := v[3]
	if inf.ZSpread >= cfg.BalanceZSpread || inf.Z >= cfg.BalanceZSingle {
		t.Fatalf("inflater: z %.1f spread %.1f: the test needs evidence in one swarm below balance_z_single", inf.Z, inf.ZSpread)
	}
	if !balanceFires(inf, cfg) {
		t.Errorf("one-swarm inflater over ten days not reported: alpha %.2f z %.1f days %.1f fake %.1f GiB size %.1f GiB",
			inf.Alpha, inf.Z, inf.ZDays, inf.FakeBytes/gib, inf.TopSize/gib)
	}
	if sig := balanceSignal(inf, cfg); !sig.Fired || !strings.Contains(sig.Note, "persists") {
		t.Errorf("signal %+v: want fired, saying the excess persists in one swarm", sig)
	}
	off := cfg
	off.BalanceZDays = 0
	if balanceFires(inf, off) {
		t.Errorf("balance_z_days 0 still reports on one swarm's persistent evidence")
	}
	burst := v[4]
	if burst.Z < cfg.BalanceZ || burst.FakeBytes < burst.TopSize {
		t.Fatalf("burst: z %.1f fake %.1f GiB size %.1f GiB: the test would prove nothing", burst.Z, burst.FakeBytes/gib, burst.TopSize/gib)
	}
	if balanceFires(burst, cfg) {
		t.Errorf("one day's burst reported: alpha %.2f z %.1f spread %.1f days %.1f", burst.Alpha, burst.Z, burst.ZSpread, burst.ZDays)
	}
}

// A download that straddles a bucket boundary, by a client whose counters
// the tracker never credits (refused), shows only as the fall of `left`
// between its last announce of one bucket and its first of the next: the
// fall is acquired content, shared between the two buckets like a delta.
func TestBalanceCellsCountLeftFallAcrossBuckets(t *testing.T) {
	f := newFixture(t)
	const gib = 1 << 30
	f.sizes(map[uint64]uint64{20: 4 * gib})
	boundary := until.Add(-6 * time.Hour) // 06:00, a bucket boundary
	f.rows = append(f.rows,
		ann{t: boundary.Add(-10 * time.Minute), user: 2, torrent: 20, peer: "-XL0012-", ua: "Xunlei/1.0", event: "started", left: 4 * gib, refused: true},
		ann{t: boundary.Add(10 * time.Minute), user: 2, torrent: 20, peer: "-XL0012-", ua: "Xunlei/1.0", event: "completed", refused: true, secs: 1200},
		ann{t: boundary.Add(-15 * time.Minute), user: 1, torrent: 20, peer: "-qB4620-seed", event: "started"},
		ann{t: boundary.Add(15 * time.Minute), user: 1, torrent: 20, peer: "-qB4620-seed", event: "none", up: 4 * gib, dup: 4 * gib, secs: 1800},
	)
	f.write()
	cells, err := balanceCells(t.Context(), f.env, Window{From: until.Add(-24 * time.Hour), Until: until}, 6*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	type sums struct{ up, acquired float64 }
	buckets := map[uint32]*sums{}
	var acquired float64
	for _, c := range cells {
		s := buckets[c.Bucket]
		if s == nil {
			s = &sums{}
			buckets[c.Bucket] = s
		}
		a := math.Max(c.Down, math.Max(c.AcqPeers, c.AcqMember))
		s.up += c.Up
		s.acquired += a
		acquired += a
	}
	if math.Abs(acquired-4*gib) > 1 {
		t.Errorf("content acquired = %.0f, want %d (the fall of left across the boundary)", acquired, 4*gib)
	}
	for b, s := range buckets {
		if math.Abs(s.up-s.acquired) > 1<<20 {
			t.Errorf("bucket %s: upload %.0f vs acquired %.0f: the swarm does not balance", time.Unix(int64(b), 0).UTC(), s.up, s.acquired)
		}
	}
	if len(buckets) != 2 {
		t.Errorf("buckets = %d, want the two either side of the boundary", len(buckets))
	}
}

// On a history younger than the window (the first passes after a deployment
// or an import), the bar rises with √(window / covered); a window the
// history covers keeps it.
func TestYoungHistoryBar(t *testing.T) {
	until := time.Date(2026, 10, 8, 0, 0, 0, 0, time.UTC)
	w := Window{From: until.Add(-7 * 24 * time.Hour), Until: until}
	for _, c := range []struct {
		start time.Time
		want  float64
	}{
		{time.Time{}, 1},                        // no history read
		{w.From.Add(-time.Hour), 1},             // covered
		{w.From, 1},                             // exactly covered
		{until.Add(-7 * 24 * time.Hour / 4), 2}, // a quarter: twice the widths
		{until.Add(-time.Hour), 3},              // an hour: capped
		{until.Add(time.Hour), 3},               // nothing yet
	} {
		if got := youngHistoryBar(w, c.start); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("history from %s: bar %.3f, want %.3f", c.start, got, c.want)
		}
	}
	v := &balanceVerdict{Alpha: 1, Z: 6, ZSpread: 4, FakeBytes: 10 << 30}
	c := DefaultConfig().FakedUpload
	if !balanceFires(v, c) {
		t.Fatal("a verdict at z 6 (spread 4) does not fire on a covered window")
	}
	v.Bar = 2
	if balanceFires(v, c) {
		t.Error("the same verdict fires on a window a quarter covered (bar 2)")
	}
}

// The members the swarm-balance fit blames are triggered by the pass that
// makes the fit, once per clock hour; the passes that reuse it have nothing
// new to say about them.
func TestFitBlamedMembersTriggeredOncePerFit(t *testing.T) {
	f := newFixture(t)
	const gib = 1 << 30
	f.sizes(map[uint64]uint64{30: 10 * gib})
	// Member 9 claims 2 MiB/s for 30 hours on a torrent nobody downloads.
	f.session(session{user: 9, torrent: 30, peer: "-qB4620-fit", start: until.Add(-30 * time.Hour), n: 61, every: 30 * time.Minute,
		upRate: wobble(2 << 20)})
	f.write()
	triggered := func(at time.Time) bool {
		t.Helper()
		ids, err := FakedUpload{}.Triggers(t.Context(), f.env, Window{From: at.Add(-7 * 24 * time.Hour), Until: at, ActiveSince: at.Add(-5 * time.Minute)})
		if err != nil {
			t.Fatal(err)
		}
		return containsID(ids, 9)
	}
	for _, c := range []struct {
		at   time.Time
		want bool
	}{
		{until.Add(-10 * time.Minute), true}, // the hour's first pass: a new fit
		{until.Add(-5 * time.Minute), false}, // same hour: the fit is reused
		{until, true},                        // the next hour: a new fit
	} {
		if got := triggered(c.at); got != c.want {
			t.Errorf("pass at %s: member 9 triggered %v, want %v", c.at.Format(time.TimeOnly), got, c.want)
		}
	}
}
