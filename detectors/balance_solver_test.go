package detectors

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"
)

// The solver on flat slices gives the verdicts of the map-based solver it
// replaced (refFit below, kept as it was) exactly: same α, z and evidence
// on a population with honest members, fakers and noisy swarms.
func TestSolveBalanceMatchesMapSolver(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 7))
	sizes := map[uint64]uint64{}
	for tid := uint64(1); tid <= 60; tid++ {
		if tid%4 != 0 { // a quarter unknown: the noise uses the largest left
			sizes[tid] = uint64(1+rng.IntN(40)) << 28
		}
	}
	var cells []balanceCell
	for b := uint32(0); b < 28; b++ {
		for tid := uint64(1); tid <= 60; tid++ {
			if rng.IntN(3) == 0 {
				continue
			}
			bucket := 1_700_000_000/21600*21600 + b*21600
			var total float64
			for u := uint64(1); u <= 300; u++ {
				if rng.IntN(12) != 0 {
					continue
				}
				c := balanceCell{Bucket: bucket, TorrentID: tid, UserID: u, Up: float64(rng.IntN(1 << 30)), MaxLeft: float64(rng.IntN(1 << 30))}
				switch {
				case u%7 == 0: // a leecher whose `left` alone is seen
					c.Up = 0
				case u%10 == 3: // a faker: half its claim downloaded by nobody
					total += c.Up / 2
				case u%10 == 4: // a heavier one
					total += c.Up / 5
				default:
					total += c.Up
				}
				cells = append(cells, c)
			}
			// the swarm's download, spread over two leechers, with noise and now and then an accident
			share := total * (1 + 0.05*rng.NormFloat64())
			if rng.IntN(40) == 0 {
				share *= 0.2
			}
			cells = append(cells, balanceCell{Bucket: bucket, TorrentID: tid, UserID: 1000 + tid, Down: share / 2, AcqPeers: share / 3},
				balanceCell{Bucket: bucket, TorrentID: tid, UserID: 2000 + tid, AcqMember: share / 2, MaxLeft: share})
		}
	}
	n := balanceNoise{Rel: 0.05, SizeShare: 0.01, Floor: 1 << 20}
	got, want := solveBalance(cells, sizes, n, 200), refSolveBalance(cells, sizes, n, 200)
	if len(got) != len(want) || len(got) < 250 {
		t.Fatalf("%d verdicts, want %d (of about 270 uploaders)", len(got), len(want))
	}
	var fakers, between, fires int
	ids := make([]uint64, 0, len(want))
	for id := range want {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		g, w := got[id], want[id]
		if g == nil || g.Alpha != w.Alpha || g.Z != w.Z || g.ZSpread != w.ZSpread || g.ZDays != w.ZDays || g.TopSize != w.TopSize ||
			g.Uploaded != w.Uploaded || g.FakeBytes != w.FakeBytes || len(g.Torrents) != len(w.Torrents) {
			t.Fatalf("member %d: %+v, want %+v", id, g, w)
		}
		for tid, wt := range w.Torrents {
			if gt := g.Torrents[tid]; gt == nil || *gt != *wt {
				t.Fatalf("member %d torrent %d: %+v, want %+v", id, tid, gt, wt)
			}
		}
		if w.Alpha > 0.3 {
			fakers++
		}
		if balanceFires(w, DefaultConfig().FakedUpload) {
			fires++
		}
		if w.Alpha > 0 && w.Alpha < 1 && math.Abs(w.Alpha-0.5) > 0.01 {
			between++
		}
	}
	t.Logf("%d verdicts: %d with α > 0.3, %d inside (0, 1), %d fire", len(want), fakers, between, fires)
	if fakers < 20 || between < 20 {
		t.Errorf("a population too plain to compare: %d members with α > 0.3, %d strictly inside (0, 1)", fakers, between)
	}
}

// refFit is the map-based descent the flat one replaced, kept to compare:
// the same equations, Huber rounds and verdicts, each member's parts in a
// map.
type refFit struct {
	eqs    []balanceEq
	byUser map[uint64][]balancePart
	users  []uint64
	weight []float64
	resid  []float64
	alpha  map[uint64]float64
}

// balancePart is one bucket-torrent a member uploaded in.
type balancePart struct {
	eq int
	up float64
}

// refSolveBalance fits α for every uploader of the cells. sizes gives each
// torrent's size (0: unknown, the noise then uses the largest `left` seen).
func refSolveBalance(cells []balanceCell, sizes map[uint64]uint64, n balanceNoise, iterations int) map[uint64]*balanceVerdict {
	f := newRefFit(cells, sizes, n)
	f.run(iterations)
	return f.verdicts()
}

func newRefFit(cells []balanceCell, sizes map[uint64]uint64, n balanceNoise) *refFit {
	f := &refFit{eqs: balanceEquations(cells, sizes, n), byUser: map[uint64][]balancePart{}, alpha: map[uint64]float64{}}
	f.resid = make([]float64, len(f.eqs))
	f.weight = make([]float64, len(f.eqs))
	for i := range f.eqs {
		e := &f.eqs[i]
		f.weight[i] = e.base
		f.resid[i] = e.excess
		for _, u := range e.ups {
			f.byUser[u.user] = append(f.byUser[u.user], balancePart{i, u.up})
		}
	}
	for u := range f.byUser {
		f.users = append(f.users, u)
	}
	sort.Slice(f.users, func(i, j int) bool { return f.users[i] < f.users[j] })
	return f
}

func (f *refFit) run(iterations int) {
	huberFit(f.eqs, f.weight, f.resid, func() { f.descend(iterations) })
}

// descend moves each member's α to its weighted least-squares optimum in
// turn, keeping the residuals current, until no α moves by 1e-4.
func (f *refFit) descend(iterations int) {
	for it := 0; it < iterations; it++ {
		moved := 0.0
		for _, u := range f.users {
			a := f.alpha[u]
			var num, den float64
			for _, p := range f.byUser[u] {
				w := f.weight[p.eq]
				num += w * p.up * (f.resid[p.eq] + a*p.up)
				den += w * p.up * p.up
			}
			if den == 0 {
				continue
			}
			na := clamp01(num / den)
			if na == a {
				continue
			}
			for _, p := range f.byUser[u] {
				f.resid[p.eq] -= (na - a) * p.up
			}
			f.alpha[u] = na
			moved = math.Max(moved, math.Abs(na-a))
		}
		if moved < 1e-4 {
			return
		}
	}
}

// verdicts are the members' fits as they stand.
func (f *refFit) verdicts() map[uint64]*balanceVerdict {
	out := make(map[uint64]*balanceVerdict, len(f.users))
	for _, u := range f.users {
		out[u] = newBalanceVerdict(f.alpha[u], f.eqs, f.weight, f.resid, func(yield func(int, float64) bool) {
			for _, p := range f.byUser[u] {
				if !yield(p.eq, p.up) {
					return
				}
			}
		})
	}
	return out
}
