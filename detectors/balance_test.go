package detectors

import (
	"math"
	"math/rand/v2"
	"testing"
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
	for b := uint32(0); b < 4; b++ {
		for tor := uint64(1); tor <= 3; tor++ {
			sizes[tor] = 1 << 30
			cells = append(cells,
				balanceCell{Bucket: b, TorrentID: tor, UserID: 1, Up: 0.3 * gib},
				balanceCell{Bucket: b, TorrentID: tor, UserID: 100 + tor, Down: 0.3 * gib})
		}
	}
	// Torrent 11: member 1 seeds a leecher that never announced, for days.
	sizes[11] = 8 << 30
	for b := uint32(0); b < 12; b++ {
		cells = append(cells, balanceCell{Bucket: b, TorrentID: 11, UserID: 1, Up: 0.5 * gib})
	}
	// Torrent 12: member 2 claims 100 GiB nobody downloaded.
	sizes[12] = 8 << 30
	for b := uint32(0); b < 10; b++ {
		cells = append(cells, balanceCell{Bucket: b, TorrentID: 12, UserID: 2, Up: 10 * gib})
	}
	v := solveBalance(cells, sizes, balanceNoise{Rel: 0.02, SizeShare: 0.02, Floor: 64 << 20}, 200)
	cfg := DefaultConfig().FakedUpload
	if v[1].Z < cfg.BalanceZ { // without the spread rule it would be reported
		t.Fatalf("the accident should stand out on its own (z %.1f): the test would prove nothing", v[1].Z)
	}
	if balanceFires(v[1], cfg) {
		t.Errorf("honest seeder reported on one swarm's accident: alpha %.2f z %.1f spread %.1f", v[1].Alpha, v[1].Z, v[1].ZSpread)
	}
	if !balanceFires(v[2], cfg) {
		t.Errorf("single-torrent faker not reported: alpha %.2f z %.1f spread %.1f", v[2].Alpha, v[2].Z, v[2].ZSpread)
	}
}
