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

// refFit is the map-based solver the flat one replaced, kept as it was to
// compare: the equations, each member's parts, the residuals and the α.
type refFit struct {
	eqs    []balanceEq
	byUser map[uint64][]balancePart
	users  []uint64
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
	type key struct {
		bucket  uint32
		torrent uint64
	}
	idx := map[key]int{}
	f := &refFit{byUser: map[uint64][]balancePart{}, alpha: map[uint64]float64{}}
	maxLeft := map[uint64]float64{}
	for _, c := range cells {
		maxLeft[c.TorrentID] = math.Max(maxLeft[c.TorrentID], c.MaxLeft)
	}
	for _, c := range cells {
		k := key{c.Bucket, c.TorrentID}
		i, ok := idx[k]
		if !ok {
			i = len(f.eqs)
			idx[k] = i
			f.eqs = append(f.eqs, balanceEq{day: c.Bucket / 86400, torrent: c.TorrentID})
		}
		e := &f.eqs[i]
		d := math.Max(c.Down, math.Max(c.AcqPeers, c.AcqMember))
		e.down += d
		e.excess += c.Up - d
		if c.Up > 0 {
			e.ups = append(e.ups, balanceUp{c.UserID, c.Up})
		}
	}
	f.resid = make([]float64, len(f.eqs))
	for i := range f.eqs {
		e := &f.eqs[i]
		size := float64(sizes[e.torrent])
		if size == 0 {
			size = maxLeft[e.torrent]
		}
		e.size = size
		sigma := n.Rel*e.down + n.SizeShare*size + n.Floor
		e.base = 1 / (sigma * sigma)
		e.weight = e.base
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

// run fits the α from where they stand. Huber reweighting: a bucket-torrent
// that no α in [0, 1] explains (an honest swarm's rare accident: a burst of
// lost `stopped`, a client whose counters and left both vanished) is
// widened to sit at huberWidths noise widths, so it cannot pin its excess
// on whoever uploaded there.
func (f *refFit) run(iterations int) {
	for round := 0; round < huberRounds; round++ {
		if round > 0 {
			for i := range f.eqs {
				e := &f.eqs[i]
				r := math.Abs(f.resid[i]) * math.Sqrt(e.base)
				e.weight = e.base
				if r > huberWidths {
					e.weight = e.base * (huberWidths / r) * (huberWidths / r)
				}
			}
		}
		f.descend(iterations)
	}
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
				w := f.eqs[p.eq].weight
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
		alpha := f.alpha[u]
		v := &balanceVerdict{Alpha: alpha, Torrents: map[uint64]*balanceTorrent{}}
		// Per torrent, how hard its buckets pull α up (num) and how much
		// they can tell (den): the fit without the torrent that pulls
		// hardest says whether the excess follows the member across swarms
		// or sits in one swarm's accident.
		pull := map[uint64][2]float64{}
		daily := map[uint32][2]float64{}
		sizes := map[uint64]float64{}
		var num, den float64
		for _, p := range f.byUser[u] {
			e, x := &f.eqs[p.eq], p.up
			n, d := e.weight*x*(f.resid[p.eq]+alpha*x), e.weight*x*x
			num, den = num+n, den+d
			pt := pull[e.torrent]
			pull[e.torrent] = [2]float64{pt[0] + n, pt[1] + d}
			sizes[e.torrent] = e.size
			pd := daily[e.day]
			daily[e.day] = [2]float64{pd[0] + n, pd[1] + d}
			v.Uploaded += x
			t := v.Torrents[e.torrent]
			if t == nil {
				t = &balanceTorrent{}
				v.Torrents[e.torrent] = t
			}
			t.Up += x
			t.Excess += e.excess
			t.Downloaded += e.down
		}
		v.Z = alpha * math.Sqrt(den)
		v.FakeBytes = alpha * v.Uploaded
		best := math.Inf(-1)
		for t, pt := range pull {
			if pt[0] > best {
				best, v.TopSize = pt[0], sizes[t]
			}
		}
		v.ZSpread = zWithout(num, den, sortedPulls(pull), 1)
		v.ZDays = zWithout(num, den, sortedPulls(daily), 2)
		out[u] = v
	}
	return out
}
