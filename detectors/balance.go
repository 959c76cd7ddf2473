package detectors

import (
	"context"
	"fmt"
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
	Uploaded  float64 // announced upload in the fitted buckets
	FakeBytes float64 // Alpha × Uploaded
	Torrents  map[uint64]*balanceTorrent
}

// balanceTorrent is one torrent's part of a verdict.
type balanceTorrent struct {
	Up, Excess, Downloaded float64
}

// balanceNoise is the noise model of one bucket-torrent.
type balanceNoise struct {
	Rel, SizeShare, Floor float64
}

type balanceEq struct {
	torrent uint64
	excess  float64
	weight  float64 // 1/σ²
	down    float64
	ups     []balanceUp
}

type balanceUp struct {
	user uint64
	up   float64
}

// solveBalance fits α for every uploader of the cells. sizes gives each
// torrent's size (0: unknown, the noise then uses the largest `left` seen).
func solveBalance(cells []balanceCell, sizes map[uint64]uint64, n balanceNoise, iterations int) map[uint64]*balanceVerdict {
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
			eqs = append(eqs, balanceEq{torrent: c.TorrentID})
		}
		e := &eqs[i]
		d := math.Max(c.Down, math.Max(c.AcqPeers, c.AcqMember))
		e.down += d
		e.excess += c.Up - d
		if c.Up > 0 {
			e.ups = append(e.ups, balanceUp{c.UserID, c.Up})
		}
	}
	type part struct {
		eq int
		up float64
	}
	byUser := map[uint64][]part{}
	for i := range eqs {
		e := &eqs[i]
		size := float64(sizes[e.torrent])
		if size == 0 {
			size = maxLeft[e.torrent]
		}
		sigma := n.Rel*e.down + n.SizeShare*size + n.Floor
		e.weight = 1 / (sigma * sigma)
		for _, u := range e.ups {
			byUser[u.user] = append(byUser[u.user], part{i, u.up})
		}
	}
	users := make([]uint64, 0, len(byUser))
	for u := range byUser {
		users = append(users, u)
	}
	sort.Slice(users, func(i, j int) bool { return users[i] < users[j] })
	resid := make([]float64, len(eqs))
	for i := range eqs {
		resid[i] = eqs[i].excess
	}
	alpha := make(map[uint64]float64, len(users))
	// Huber reweighting: a bucket-torrent that no α in [0, 1] explains (an
	// honest swarm's rare accident: a burst of lost `stopped`, a client
	// whose counters and left both vanished) is widened to sit at
	// huberWidths noise widths, so it cannot pin its excess on whoever
	// uploaded there.
	base := make([]float64, len(eqs))
	for i := range eqs {
		base[i] = eqs[i].weight
	}
	for round := 0; round < huberRounds; round++ {
		if round > 0 {
			for i := range eqs {
				r := math.Abs(resid[i]) * math.Sqrt(base[i])
				eqs[i].weight = base[i]
				if r > huberWidths {
					eqs[i].weight = base[i] * (huberWidths / r) * (huberWidths / r)
				}
			}
		}
		for it := 0; it < iterations; it++ {
			moved := 0.0
			for _, u := range users {
				a := alpha[u]
				var num, den float64
				for _, p := range byUser[u] {
					w := eqs[p.eq].weight
					num += w * p.up * (resid[p.eq] + a*p.up)
					den += w * p.up * p.up
				}
				if den == 0 {
					continue
				}
				na := clamp01(num / den)
				if na == a {
					continue
				}
				for _, p := range byUser[u] {
					resid[p.eq] -= (na - a) * p.up
				}
				alpha[u] = na
				moved = math.Max(moved, math.Abs(na-a))
			}
			if moved < 1e-4 {
				break
			}
		}
	}
	out := make(map[uint64]*balanceVerdict, len(users))
	for _, u := range users {
		v := &balanceVerdict{Alpha: alpha[u], Torrents: map[uint64]*balanceTorrent{}}
		// Per torrent, how hard its buckets pull α up (num) and how much
		// they can tell (den): the fit without the torrent that pulls
		// hardest says whether the excess follows the member across swarms
		// or sits in one swarm's accident.
		pull := map[uint64][2]float64{}
		var num, den float64
		for _, p := range byUser[u] {
			e, x := &eqs[p.eq], p.up
			n, d := e.weight*x*(resid[p.eq]+alpha[u]*x), e.weight*x*x
			num, den = num+n, den+d
			pt := pull[e.torrent]
			pull[e.torrent] = [2]float64{pt[0] + n, pt[1] + d}
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
		v.Z = v.Alpha * math.Sqrt(den)
		v.FakeBytes = v.Alpha * v.Uploaded
		var top [2]float64
		for _, pt := range pull {
			if pt[0] > top[0] {
				top = pt
			}
		}
		if rest := den - top[1]; rest > 0 {
			v.ZSpread = clamp01((num-top[0])/rest) * math.Sqrt(rest)
		}
		out[u] = v
	}
	return out
}

// balanceCells reads the cells of the window: the parts of deltas that
// belong to the bucket before become cells of their own, and buckets that
// start before the window (their first part was not read) are left out.
func balanceCells(ctx context.Context, env *Env, w Window, bucket time.Duration) ([]balanceCell, error) {
	var rows []balanceCell
	p := windowParams(w)
	secs := uint32(bucket.Seconds())
	p["bucket"] = secs
	if err := selectRows(ctx, env, &rows, "fu_balance_cells", p); err != nil {
		return nil, err
	}
	from := unix(w.From)
	type key struct {
		bucket        uint32
		torrent, user uint64
	}
	at := make(map[key]int, len(rows))
	out := rows[:0]
	for _, c := range rows {
		if c.Bucket >= from {
			at[key{c.Bucket, c.TorrentID, c.UserID}] = len(out)
			out = append(out, c)
		}
	}
	n := len(out)
	for i := 0; i < n; i++ {
		c := out[i]
		if c.UpBefore == 0 && c.DownBefore == 0 || c.Bucket < secs || c.Bucket-secs < from {
			continue
		}
		k := key{c.Bucket - secs, c.TorrentID, c.UserID}
		j, ok := at[k]
		if !ok {
			j = len(out)
			at[k] = j
			out = append(out, balanceCell{Bucket: k.bucket, TorrentID: k.torrent, UserID: k.user})
		}
		out[j].Up += c.UpBefore
		out[j].Down += c.DownBefore
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
// once per hour of incremental passes.
func swarmBalance(ctx context.Context, env *Env, w Window, c FakedUploadConfig) (map[uint64]*balanceVerdict, error) {
	from, until := w.From.Truncate(time.Hour).Unix(), w.Until.Truncate(time.Hour).Unix()
	if incremental(w) && env.balance != nil && env.balance.from == from && env.balance.until == until {
		return env.balance.verdicts, nil
	}
	cells, err := balanceCells(ctx, env, w, c.BalanceBucket.Duration)
	if err != nil {
		return nil, err
	}
	sizes, err := torrentSizes(ctx, env, nil)
	if err != nil {
		return nil, err
	}
	v := solveBalance(cells, sizes, balanceNoise{Rel: c.BalanceNoiseRel, SizeShare: c.BalanceNoiseSize, Floor: float64(c.BalanceNoiseFloor)}, 200)
	env.balance = &balanceCache{from: from, until: until, verdicts: v}
	return v, nil
}

// balanceFires: enough of the member's upload unexplained, in bytes and in
// noise widths — and still without the one swarm that pulls hardest, so
// one swarm's accident (an honest swarm's excess is heavy-tailed) never
// reports a member whose other swarms balance — unless that one swarm's
// evidence alone is beyond balance_z_single noise widths (a faker on a
// single torrent nobody downloads).
func balanceFires(v *balanceVerdict, c FakedUploadConfig) bool {
	return v != nil && v.Alpha >= c.BalanceMinShare && v.FakeBytes >= float64(c.BalanceMinBytes) &&
		(v.Z >= c.BalanceZ && v.ZSpread >= c.BalanceZSpread || v.Z >= c.BalanceZSingle)
}

// balanceSignal is the swarm-balance signal of a member (nil: no upload fitted).
func balanceSignal(v *balanceVerdict, c FakedUploadConfig) Signal {
	s := Signal{Name: "swarm_balance", Threshold: c.BalanceZ, Unit: "noise widths", Weight: 1}
	if v == nil {
		return s
	}
	s.Value = v.Z
	s.Note = fmt.Sprintf("%.0f%% of %s announced upload over %d torrents was downloaded by nobody in those swarms (%s unexplained)",
		100*v.Alpha, formatBytes(v.Uploaded), len(v.Torrents), formatBytes(v.FakeBytes))
	if balanceFires(v, c) {
		s.Fired, s.Strength = true, strength(v.Z, c.BalanceZ)
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
