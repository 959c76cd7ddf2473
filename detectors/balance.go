package detectors

import (
	"context"
	"fmt"
	"iter"
	"math"
	"sort"
	"time"
)

// Swarm balance: physical evidence of faked upload.
//
// In every swarm each byte uploaded is a byte downloaded, so per torrent and
// bucket of time Σ upload announced − Σ content acquired is zero up to what no announce
// can show (sessions that straddle the bucket, lost `stopped`, crashes). The
// content a member acquired is the larger of the download it announced and
// the fall of `left` (per peer, and over the member's peers together: a
// crashed or re-added client's download shows in `left` even when its
// counters were lost), accepted or refused: a refused client still takes
// bytes from the swarm's seeders.
//
// Each bucket-torrent is one equation E = U − D = Σ α_m · u_m + noise, where
// u_m is member m's announced upload there and α_m ∈ [0, 1] the share of
// it that nobody downloaded (0 for an honest client, 1 for a pure faker,
// (k−1)/k for a client that reports k times its real upload). The α are
// the non-negative least squares fit weighted by 1/σ², σ = noise_rel·D +
// noise_size·size + noise_floor, solved by coordinate descent: a member
// who uploads in many swarms is judged by all of them together, so one
// unbalanced swarm (a lost `stopped`, a co-seeder's fake) does not make an
// honest co-seeder look guilty, while a client that inflates everywhere
// leaves an excess proportional to its claims on every swarm it touches.
// z = α·√Σ(w·u²) is how many noise widths the member's unexplained upload
// stands out; fake bytes = α·Σu.
//
// One swarm's accident (a burst of lost `stopped`, a leecher nobody saw)
// must not report an honest member, so the evidence must also stand without
// the torrent that pulls hardest, or without the two days that pull hardest
// when it sits in one swarm: an accident is local in time, while a client
// that inflates its one busy torrent leaves an excess on every day it seeds
// it. The second route also needs more unexplained bytes than a whole copy
// of that torrent, which no single unseen downloader could have taken, and
// so does evidence that stands out in one swarm alone (balance_z_single).
//
// Most of an honest swarm's imbalance is timing: deltas that straddle a
// bucket boundary. The download side is shared in proportion to time; an
// upload delta that straddles it is shared by when the swarm's leechers
// downloaded (balance_profile.go).

// The robust fit: rounds of reweighting, and the residual in noise widths
// beyond which a bucket-torrent counts as an outlier.
const (
	huberRounds = 4
	huberWidths = 2.0
)

// balanceCell is one member's bucket of time on one torrent.
type balanceCell struct {
	Bucket     uint32  `ch:"bucket"`
	TorrentID  uint64  `ch:"torrent_id"`
	UserID     uint64  `ch:"user_id"`
	Up         float64 `ch:"up"`
	Down       float64 `ch:"down"`
	UpBefore   float64 `ch:"up_before"` // parts of the deltas that belong to the bucket before
	DownBefore float64 `ch:"down_before"`
	AcqPeers   float64 `ch:"acq_peers"`
	AcqMember  float64 `ch:"acq_member"`
	MaxLeft    float64 `ch:"max_left"`
}

// balanceVerdict is one uploader's fit.
type balanceVerdict struct {
	Alpha     float64 // share of the member's upload nobody downloaded
	Z         float64 // noise widths
	ZSpread   float64 // noise widths without the torrent that pulls hardest
	ZDays     float64 // noise widths without the two days that pull hardest
	TopSize   float64 // size of the torrent that pulls hardest
	TopFake   float64 // unexplained bytes there: α × the member's upload there, at most its buckets' excess
	Bar       float64 // factor on the z thresholds: above 1 when the history covers less than the window
	Uploaded  float64 // announced upload in the fitted buckets
	FakeBytes float64 // Alpha × Uploaded
	Torrents  map[uint64]*balanceTorrent
}

// balanceTorrent is one torrent's part of a verdict.
type balanceTorrent struct {
	Up, Excess, Downloaded float64
}

// balanceNoise is the noise model of one bucket-torrent: σ = Rel × content
// acquired + SizeShare × the torrent's size + Floor bytes.
type balanceNoise struct {
	Rel, SizeShare, Floor float64
}

// balanceEq is one bucket-torrent: E = U − D = Σ α_m · u_m + noise.
type balanceEq struct {
	day     uint32 // bucket start / 86400
	size    float64
	torrent uint64
	excess  float64
	base    float64 // 1/σ² of the noise model
	down    float64
	ups     []balanceUp
}

type balanceUp struct {
	user uint64
	up   float64
}

// balanceFit is the fit in progress: the equations, each member's parts,
// the residuals and the α. Members are numbered in the order of their ids
// (users); member k's parts — the bucket-torrents it uploaded in, in the
// order of the equations — are partEq and partUp from off[k] to off[k+1].
// Flat slices rather than maps: the descent walks every part up to 200
// times per round.
type balanceFit struct {
	eqs    []balanceEq
	users  []uint64
	off    []int32
	partEq []int32
	partUp []float64
	weight []float64 // 1/σ² of each equation, after Huber reweighting
	resid  []float64
	alpha  []float64
}

// solveBalance fits α for every uploader of the cells. sizes gives each
// torrent's size (0: unknown, the noise then uses the largest `left` seen).
func solveBalance(cells []balanceCell, sizes map[uint64]uint64, n balanceNoise, iterations int) map[uint64]*balanceVerdict {
	f := newBalanceFit(cells, sizes, n)
	f.run(iterations)
	return f.verdicts()
}

// balanceEquations are the bucket-torrents of the cells, each with its
// uploaders in the order of the cells and the weight 1/σ² of its noise.
// sizes gives each torrent's size (0: unknown, the noise then uses the
// largest `left` seen).
func balanceEquations(cells []balanceCell, sizes map[uint64]uint64, n balanceNoise) []balanceEq {
	type key struct {
		bucket  uint32
		torrent uint64
	}
	idx := map[key]int{}
	var eqs []balanceEq
	maxLeft := map[uint64]float64{}
	for _, c := range cells {
		maxLeft[c.TorrentID] = math.Max(maxLeft[c.TorrentID], c.MaxLeft)
	}
	for _, c := range cells {
		k := key{c.Bucket, c.TorrentID}
		i, ok := idx[k]
		if !ok {
			i = len(eqs)
			idx[k] = i
			eqs = append(eqs, balanceEq{day: c.Bucket / 86400, torrent: c.TorrentID})
		}
		e := &eqs[i]
		d := math.Max(c.Down, math.Max(c.AcqPeers, c.AcqMember))
		e.down += d
		e.excess += c.Up - d
		if c.Up > 0 {
			e.ups = append(e.ups, balanceUp{c.UserID, c.Up})
		}
	}
	for i := range eqs {
		e := &eqs[i]
		e.size = float64(sizes[e.torrent])
		if e.size == 0 {
			e.size = maxLeft[e.torrent]
		}
		sigma := n.Rel*e.down + n.SizeShare*e.size + n.Floor
		e.base = 1 / (sigma * sigma)
	}
	return eqs
}

func newBalanceFit(cells []balanceCell, sizes map[uint64]uint64, n balanceNoise) *balanceFit {
	f := &balanceFit{eqs: balanceEquations(cells, sizes, n)}
	member := map[uint64]int32{}
	for i := range f.eqs {
		for _, u := range f.eqs[i].ups {
			if _, ok := member[u.user]; !ok {
				member[u.user] = 0
				f.users = append(f.users, u.user)
			}
		}
	}
	sort.Slice(f.users, func(i, j int) bool { return f.users[i] < f.users[j] })
	for k, u := range f.users {
		member[u] = int32(k)
	}
	f.off = make([]int32, len(f.users)+1)
	for i := range f.eqs {
		for _, u := range f.eqs[i].ups {
			f.off[member[u.user]+1]++
		}
	}
	for k := range f.users {
		f.off[k+1] += f.off[k]
	}
	next := append([]int32(nil), f.off[:len(f.users)]...)
	f.partEq = make([]int32, f.off[len(f.users)])
	f.partUp = make([]float64, len(f.partEq))
	f.resid = make([]float64, len(f.eqs))
	f.weight = make([]float64, len(f.eqs))
	f.alpha = make([]float64, len(f.users))
	for i := range f.eqs {
		e := &f.eqs[i]
		f.weight[i] = e.base
		f.resid[i] = e.excess
		for _, u := range e.ups {
			k := member[u.user]
			f.partEq[next[k]], f.partUp[next[k]] = int32(i), u.up
			next[k]++
		}
	}
	return f
}

// run fits the α from where they stand.
func (f *balanceFit) run(iterations int) {
	huberFit(f.eqs, f.weight, f.resid, func() { f.descend(iterations) })
}

// huberFit runs the descent in rounds of Huber reweighting: a
// bucket-torrent that no α in [0, 1] explains (an honest swarm's rare
// accident: a burst of lost `stopped`, a client whose counters and left
// both vanished) is widened to sit at huberWidths noise widths, so it
// cannot pin its excess on whoever uploaded there.
func huberFit(eqs []balanceEq, weight, resid []float64, descend func()) {
	for round := 0; round < huberRounds; round++ {
		if round > 0 {
			for i := range eqs {
				weight[i] = huberWeight(eqs[i].base, resid[i])
			}
		}
		descend()
	}
}

// descend moves each member's α to its weighted least-squares optimum in
// turn, keeping the residuals current, until no α moves by 1e-4.
func (f *balanceFit) descend(iterations int) {
	for it := 0; it < iterations; it++ {
		moved := 0.0
		for k := range f.users {
			a := f.alpha[k]
			eqs, ups := f.partEq[f.off[k]:f.off[k+1]], f.partUp[f.off[k]:f.off[k+1]]
			var num, den float64
			for j, i := range eqs {
				w, x := f.weight[i], ups[j]
				num += w * x * (f.resid[i] + a*x)
				den += w * x * x
			}
			if den == 0 {
				continue
			}
			na := clamp01(num / den)
			if na == a {
				continue
			}
			for j, i := range eqs {
				f.resid[i] -= (na - a) * ups[j]
			}
			f.alpha[k] = na
			moved = math.Max(moved, math.Abs(na-a))
		}
		if moved < 1e-4 {
			return
		}
	}
}

// huberWeight is an equation's weight for its residual: the noise model's,
// or less, so the residual sits at huberWidths noise widths.
func huberWeight(base, resid float64) float64 {
	if r := math.Abs(resid) * math.Sqrt(base); r > huberWidths {
		return base * (huberWidths / r) * (huberWidths / r)
	}
	return base
}

// verdicts are the members' fits as they stand.
func (f *balanceFit) verdicts() map[uint64]*balanceVerdict {
	out := make(map[uint64]*balanceVerdict, len(f.users))
	for k, u := range f.users {
		out[u] = newBalanceVerdict(f.alpha[k], f.eqs, f.weight, f.resid, func(yield func(int, float64) bool) {
			for j := f.off[k]; j < f.off[k+1]; j++ {
				if !yield(int(f.partEq[j]), f.partUp[j]) {
					return
				}
			}
		})
	}
	return out
}

// newBalanceVerdict is one member's verdict at its α, from its parts
// (equation, upload) in the order of the equations, the equations'
// weights and the residuals.
func newBalanceVerdict(alpha float64, eqs []balanceEq, weight, resid []float64, parts iter.Seq2[int, float64]) *balanceVerdict {
	v := &balanceVerdict{Alpha: alpha, Torrents: map[uint64]*balanceTorrent{}}
	// Per torrent, how hard its buckets pull α up (num) and how much
	// they can tell (den): the fit without the torrent that pulls
	// hardest says whether the excess follows the member across swarms
	// or sits in one swarm's accident; per day, whether it persists.
	pull := map[uint64][2]float64{}
	daily := map[uint32][2]float64{}
	sizes := map[uint64]float64{}
	var num, den float64
	for i, x := range parts {
		e := &eqs[i]
		n, d := weight[i]*x*(resid[i]+alpha*x), weight[i]*x*x
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
			top := v.Torrents[t]
			best, v.TopSize, v.TopFake = pt[0], sizes[t], math.Min(alpha*top.Up, math.Max(0, top.Excess))
		}
	}
	v.ZSpread = zWithout(num, den, sortedPulls(pull), 1)
	v.ZDays = zWithout(num, den, sortedPulls(daily), 2)
	return v
}

// balancePeer is one peer's bucket of time on one torrent
// (fu_balance_peers.sql).
type balancePeer struct {
	Bucket     uint32  `ch:"bucket"`
	TorrentID  uint64  `ch:"torrent_id"`
	UserID     uint64  `ch:"user_id"`
	Peer       uint64  `ch:"peer"`
	Up         float64 `ch:"up"`
	Down       float64 `ch:"down"`
	UpBefore   float64 `ch:"up_before"`
	DownBefore float64 `ch:"down_before"`
	Hi         float64 `ch:"hi"`
	Lo         float64 `ch:"lo"`
	FirstLeft  float64 `ch:"first_left"`
	LastLeft   float64 `ch:"last_left"`
	FirstAt    uint32  `ch:"first_at"`
	LastAt     uint32  `ch:"last_at"`
	FirstUp    float64 `ch:"first_up"` // the upload of the peer's first row in the bucket
	FirstSecs  uint32  `ch:"first_secs"`
}

// upBefore is the part of the row's upload that belongs to the bucket
// before: the first row's delta, when it straddles the boundary, shared by
// the swarm's downloads (balance_profile.go); the SQL's share by time
// otherwise.
func (r *balancePeer) upBefore(profile downloadProfile) float64 {
	if r.UpBefore == 0 || r.FirstSecs == 0 || r.FirstSecs > 10800 || r.FirstSecs >= r.FirstAt || r.FirstAt-r.FirstSecs >= r.Bucket {
		return r.UpBefore
	}
	return r.FirstUp * profile.shareBefore(r.TorrentID, r.FirstAt-r.FirstSecs, r.Bucket, r.FirstAt)
}

// balanceCells reads the cells of the window from its peers' buckets. The
// content a peer acquired in a bucket is the fall of its `left` within the
// bucket plus the fall since its last announce of an earlier bucket (a
// download that straddles the boundary, a client that completed minutes
// after it started); like a download delta, that fall is shared between the
// bucket and the one before in proportion to the time on each side, when
// the previous announce was at most 3 h before. An upload delta is shared
// by the swarm's downloads on each side (balance_profile.go). The parts of
// deltas that belong to the bucket before go there; buckets that start before the window
// (their first part was not read) are left out.
func balanceCells(ctx context.Context, env *Env, w Window, bucket time.Duration) ([]balanceCell, error) {
	return balanceCellsKeeping(ctx, env, w, bucket, nil)
}

// balanceRows are the peers' rows (fu_balance_peers) of whole buckets of
// the last fit's window, kept for the next fit: a bucket's rows depend on
// its announces alone, so the hourly fit, whose 7-day window slides by an
// hour, reads from ClickHouse only the head of its window (the partial
// first bucket, whose rows give the fall of `left` carried into the first
// whole one) and the buckets it has not kept. Each kept bucket's count of
// announces, read before its rows, is checked against a fresh count at the
// next fit: a row that landed late in a kept bucket has it read again.
type balanceRows struct {
	secs        uint32
	from, until uint32            // the buckets kept: from <= bucket < until
	counts      map[uint32]uint64 // announces per bucket, counted before its rows were read
	rows        []balancePeer     // sorted as the query sorts: torrent, member, peer, bucket
	profile     []profileRow      // the download profile's rows, sorted as its query sorts
}

// bucketCount is a row of announce_counts.sql.
type bucketCount struct {
	Bucket uint32 `ch:"bucket"`
	N      uint64 `ch:"n"`
}

// peerBefore orders rows as fu_balance_peers.sql does.
func peerBefore(a, b *balancePeer) bool {
	if a.TorrentID != b.TorrentID {
		return a.TorrentID < b.TorrentID
	}
	if a.UserID != b.UserID {
		return a.UserID < b.UserID
	}
	if a.Peer != b.Peer {
		return a.Peer < b.Peer
	}
	return a.Bucket < b.Bucket
}

// reuse returns the span of the longest run of whole buckets of the
// window, from its first one kept, whose counts have not moved (from ==
// until: none).
func (k *balanceRows) reuse(secs, first, end uint32, counts map[uint32]uint64) (from, until uint32) {
	if k == nil || k.secs != secs || k.rows == nil {
		return 0, 0
	}
	from = max(first, k.from)
	until = from
	for until < min(end, k.until) && counts[until] == k.counts[until] {
		until += secs
	}
	if until == from {
		return 0, 0
	}
	return from, until
}

// balanceCellsKeeping is balanceCells reading the buckets kept (nil: none
// kept) from memory instead of ClickHouse, and keeping the window's whole
// buckets for the next call.
func balanceCellsKeeping(ctx context.Context, env *Env, w Window, bucket time.Duration, kept *balanceRows) ([]balanceCell, error) {
	p := windowParams(w)
	secs := uint32(bucket.Seconds())
	p["bucket"] = secs
	from := unix(w.From)
	p["skip_from"], p["skip_until"] = uint32(0), uint32(0)
	var reused []balancePeer // the kept rows, of which those from skipFrom to skipUntil are read
	var reusedProfile []profileRow
	var skipFrom, skipUntil uint32
	var next *balanceRows
	first, end := (from+secs-1)/secs*secs, unix(w.Until)/secs*secs // the whole buckets: first <= bucket < end
	if kept != nil && first < end {
		var counts []bucketCount
		if err := selectRows(ctx, env, &counts, "announce_counts", params{"bucket": secs, "from": first, "until": end}); err != nil {
			return nil, err
		}
		next = &balanceRows{secs: secs, from: first, until: end, counts: make(map[uint32]uint64, len(counts)),
			rows:    make([]balancePeer, 0, len(kept.rows)+len(kept.rows)/16),
			profile: make([]profileRow, 0, len(kept.profile)+len(kept.profile)/16)}
		for _, c := range counts {
			next.counts[c.Bucket] = c.N
		}
		if skipFrom, skipUntil = kept.reuse(secs, first, end, next.counts); skipFrom < skipUntil {
			reused, reusedProfile = kept.rows, kept.profile
		}
		p["skip_from"], p["skip_until"] = skipFrom, skipUntil
	}
	profile, err := readDownloadProfile(ctx, env, p, reusedProfile, skipFrom, skipUntil, func(r *profileRow) {
		if next != nil && r.At >= first && r.At < end {
			next.profile = append(next.profile, *r)
		}
	})
	if err != nil {
		return nil, err
	}
	type key struct {
		bucket        uint32
		torrent, user uint64
	}
	type span struct{ hi, lo float64 }
	at := map[key]int{}
	spans := map[key]*span{}
	var out []balanceCell
	cell := func(b uint32, torrent, user uint64) *balanceCell {
		k := key{b, torrent, user}
		i, ok := at[k]
		if !ok {
			i = len(out)
			at[k] = i
			out = append(out, balanceCell{Bucket: b, TorrentID: torrent, UserID: user})
		}
		return &out[i]
	}
	var prev balancePeer
	add := func(r *balancePeer) {
		if next != nil && r.Bucket >= first && r.Bucket < end {
			next.rows = append(next.rows, *r)
		}
		samePeer := prev.Peer == r.Peer && prev.UserID == r.UserID && prev.TorrentID == r.TorrentID && prev.LastAt > 0
		var carry, carryBefore float64
		if samePeer && prev.LastLeft > r.FirstLeft {
			carry = prev.LastLeft - r.FirstLeft
			if gap := float64(r.FirstAt) - float64(prev.LastAt); prev.Bucket+secs == r.Bucket && gap > 0 && gap <= 10800 {
				carryBefore = carry * math.Min(1, math.Max(0, (float64(r.Bucket)-float64(prev.LastAt))/gap))
			}
		}
		prev = *r
		if r.Bucket < from {
			return
		}
		upBefore := r.upBefore(profile)
		c := cell(r.Bucket, r.TorrentID, r.UserID)
		c.Up += r.Up + r.UpBefore - upBefore
		c.Down += r.Down
		c.AcqPeers += r.Hi - r.Lo + carry - carryBefore
		c.MaxLeft = math.Max(c.MaxLeft, r.Hi)
		k := key{r.Bucket, r.TorrentID, r.UserID}
		if sp := spans[k]; sp == nil {
			spans[k] = &span{r.Hi, r.Lo}
		} else {
			sp.hi, sp.lo = math.Max(sp.hi, r.Hi), math.Min(sp.lo, r.Lo)
		}
		if r.Bucket < secs || r.Bucket-secs < from || upBefore == 0 && r.DownBefore == 0 && carryBefore == 0 {
			return
		}
		b := cell(r.Bucket-secs, r.TorrentID, r.UserID)
		b.Up += upBefore
		b.Down += r.DownBefore
		b.AcqPeers += carryBefore
	}
	// The kept rows merge into the query's in its order, so every cell
	// adds up as a fresh read would.
	err = streamMerged(ctx, env, "fu_balance_peers", p, reused, peerBefore,
		func(r *balancePeer) bool { return r.Bucket >= skipFrom && r.Bucket < skipUntil }, add)
	if err != nil {
		return nil, err
	}
	for k, sp := range spans {
		out[at[k]].AcqMember = sp.hi - sp.lo
	}
	if kept != nil {
		*kept = balanceRows{}
		if next != nil {
			*kept = *next
		}
	}
	return out, nil
}

// balanceCache keeps one fit per window hour, so an incremental pass fits
// once for its Triggers and its Run, and the next passes of the same hour
// reuse it (the evidence moves by days, not minutes).
type balanceCache struct {
	from, until int64
	verdicts    map[uint64]*balanceVerdict
}

// swarmBalance returns the fit of the window: computed in every full pass,
// once per hour of incremental passes (fresh says this call computed it).
func swarmBalance(ctx context.Context, env *Env, w Window, c FakedUploadConfig) (verdicts map[uint64]*balanceVerdict, fresh bool, err error) {
	from, until := w.From.Truncate(time.Hour).Unix(), w.Until.Truncate(time.Hour).Unix()
	if incremental(w) && env.balance != nil && env.balance.from == from && env.balance.until == until {
		return env.balance.verdicts, false, nil
	}
	// The scheduled windows keep their whole buckets' rows for the next
	// fit; a backfill's longer window is read once.
	var kept *balanceRows
	if w.Until.Sub(w.From) <= c.Lookback.Duration {
		if env.balanceRows == nil {
			env.balanceRows = &balanceRows{}
		}
		kept = env.balanceRows
	}
	cells, err := balanceCellsKeeping(ctx, env, w, c.BalanceBucket.Duration, kept)
	if err != nil {
		return nil, false, err
	}
	sizes, err := torrentSizes(ctx, env, nil)
	if err != nil {
		return nil, false, err
	}
	v := solveBalance(cells, sizes, balanceNoise{Rel: c.BalanceNoiseRel, SizeShare: c.BalanceNoiseSize, Floor: float64(c.BalanceNoiseFloor)}, 200)
	start, err := historyStart(ctx, env)
	if err != nil {
		return nil, false, err
	}
	bar := youngHistoryBar(w, start)
	for _, x := range v {
		x.Bar = bar
	}
	env.balance = &balanceCache{from: from, until: until, verdicts: v}
	return v, true, nil
}

// youngHistoryBar raises the z thresholds of a window the announce history
// covers only in part — the first passes after a deployment or an import,
// whose swarms hold sessions begun before the history that no announce can
// show — to what the whole window would hold: evidence grows as the square
// root of the time observed, so the bar is √(window / covered), at most 3.
func youngHistoryBar(w Window, start time.Time) float64 {
	window := w.Until.Sub(w.From)
	if start.IsZero() || !start.After(w.From) || window <= 0 {
		return 1
	}
	covered := w.Until.Sub(start)
	if covered <= 0 {
		return 3
	}
	return math.Min(3, math.Sqrt(window.Hours()/covered.Hours()))
}

// historyStart is the time of the first announce stored, read once per Env
// (zero while there is none).
func historyStart(ctx context.Context, env *Env) (time.Time, error) {
	if !env.history.IsZero() {
		return env.history, nil
	}
	var rows []struct {
		First uint32 `ch:"first"`
	}
	if err := selectRows(ctx, env, &rows, "history_start", params{}); err != nil {
		return time.Time{}, err
	}
	if len(rows) == 1 && rows[0].First > 0 {
		env.history = time.Unix(int64(rows[0].First), 0).UTC()
	}
	return env.history, nil
}

// sortedPulls lists the pulls (num, den) by pull, descending.
func sortedPulls[K comparable](pull map[K][2]float64) [][2]float64 {
	out := make([][2]float64, 0, len(pull))
	for _, pt := range pull {
		out = append(out, pt)
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] > out[j][0] })
	return out
}

// zWithout is the fit's z without the k torrents that pull hardest (pulls
// sorted by pull, descending).
func zWithout(num, den float64, pulls [][2]float64, k int) float64 {
	for i := 0; i < k && i < len(pulls); i++ {
		if pulls[i][0] > 0 {
			num -= pulls[i][0]
			den -= pulls[i][1]
		}
	}
	if den <= 0 {
		return 0
	}
	return clamp01(num/den) * math.Sqrt(den)
}

// balanceFires: enough of the member's upload unexplained, in bytes and in
// noise widths — and still without the one swarm that pulls hardest, so
// one swarm's accident (an honest swarm's excess is heavy-tailed) never
// reports a member whose other swarms balance; or, when the evidence sits
// in one swarm, still without the two days that pull hardest and over more
// than a whole copy of that torrent (an excess that persists for days);
// or that one swarm's evidence alone is beyond balance_z_single noise
// widths and more than a whole copy of that torrent is unexplained there (a
// faker on a single torrent nobody downloads; one leecher nobody saw takes
// at most one copy). The widths are raised by the verdict's bar on a young
// history.
func balanceFires(v *balanceVerdict, c FakedUploadConfig) bool {
	if v == nil {
		return false
	}
	bar := math.Max(1, v.Bar)
	return v.Alpha >= c.BalanceMinShare && v.FakeBytes >= float64(c.BalanceMinBytes) &&
		(v.Z >= bar*c.BalanceZ && (v.ZSpread >= bar*c.BalanceZSpread || balancePersists(v, c, bar)) ||
			v.Z >= bar*c.BalanceZSingle && v.TopFake >= v.TopSize)
}

// balancePersists: the evidence stands without the two days that pull
// hardest (balance_z_days noise widths, 0: off) and exceeds a whole copy of
// the torrent that pulls hardest.
func balancePersists(v *balanceVerdict, c FakedUploadConfig, bar float64) bool {
	return c.BalanceZDays > 0 && v.ZDays >= bar*c.BalanceZDays && v.FakeBytes >= v.TopSize
}

// balanceSignal is the swarm-balance signal of a member (nil: no upload fitted).
func balanceSignal(v *balanceVerdict, c FakedUploadConfig) Signal {
	s := Signal{Name: "swarm_balance", Threshold: c.BalanceZ, Unit: "noise widths", Weight: 1}
	if v == nil {
		return s
	}
	if v.Bar > 1 {
		s.Threshold = v.Bar * c.BalanceZ
	}
	s.Value = v.Z
	s.Note = fmt.Sprintf("%.0f%% of %s announced upload over %d torrents was downloaded by nobody in those swarms (%s unexplained)",
		100*v.Alpha, formatBytes(v.Uploaded), len(v.Torrents), formatBytes(v.FakeBytes))
	if v.Bar > 1 {
		s.Note += fmt.Sprintf("; the history covers part of the window, so the bar is %.1f× higher", v.Bar)
	}
	if balanceFires(v, c) {
		s.Fired, s.Strength = true, strength(v.Z, s.Threshold)
		if bar := math.Max(1, v.Bar); v.ZSpread < bar*c.BalanceZSpread {
			if balancePersists(v, c, bar) {
				s.Note += fmt.Sprintf("; most of it in one swarm, where it persists: %.1f noise widths without the two days that pull hardest, more than a whole copy (%s) of that torrent", v.ZDays, formatBytes(v.TopSize))
			} else {
				s.Note += fmt.Sprintf("; most of it in one swarm: %s unexplained there, more than a whole copy (%s) of that torrent", formatBytes(v.TopFake), formatBytes(v.TopSize))
			}
		}
	}
	return s
}

// formatBytes prints bytes in binary units for evidence notes.
func formatBytes(b float64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB"}
	i := 0
	for b >= 1024 && i < len(units)-1 {
		b /= 1024
		i++
	}
	return fmt.Sprintf("%.1f %s", b, units[i])
}
