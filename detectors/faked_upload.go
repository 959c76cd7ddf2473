package detectors

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"
)

// FakedUpload combines independent faked-upload signals into one score per
// member: impossible rate, upload with no other leecher, swarm
// conservation, counter jumps, unnatural regularity, client fingerprint
// mismatch and collusion.
type FakedUpload struct{}

// Name implements Detector.
func (FakedUpload) Name() string { return "faked_upload" }

// Lookback implements Detector.
func (FakedUpload) Lookback(c *Config) time.Duration { return c.FakedUpload.Lookback.Duration }

// Doc implements Detector.
func (FakedUpload) Doc() Doc {
	return Doc{
		Title:   "Faked upload",
		Catches: "naive and careful ratio fakers, clients that inflate real upload, colluding pairs",
		Signals: []string{
			"physical — swarm balance: per balance_bucket and torrent, Σ upload announced against Σ content acquired (announced download or the fall of `left`, per peer — including the fall between a peer's last announce of one bucket and its first of the next, shared between them like a delta — and over the member's peers, accepted or refused rows; an upload delta that straddles a boundary is shared between the two buckets by what the swarm's leechers downloaded on each side, by time when they downloaded nothing); a robust (Huber) non-negative least-squares fit over every bucket-torrent of the lookback gives each uploader the share α of its upload nobody downloaded, in noise widths z (noise = balance_noise_rel of the swarm's acquisition + balance_noise_size of the torrent size + balance_noise_floor); fires at α ≥ balance_min_share, α·upload ≥ balance_min_bytes, z ≥ balance_z and z ≥ balance_z_spread without the torrent that pulls hardest — or, for evidence in one swarm, z ≥ balance_z_days without the two days that pull hardest and α·upload above that torrent's size — (or z ≥ balance_z_single from one torrent, with more unexplained bytes there than a whole copy of it); on a window the announce history covers only in part (the first week after a deployment or an import) every z threshold is √(window / covered) higher, at most 3×; weight 1",
			"physical — counter jump: one announce's upload delta above jump_size_multiple (2) × the larger of the torrent size and everything its swarm reported downloading in the window; weight 0.95",
			"physical — collusion: torrent-hours where exactly one member uploaded and exactly one other downloaded, the same pair on ≥ collusion_min_torrents distinct torrents (an honest seeder meets the same lone leecher on one or two); both members of the pair, with the share of the uploader's upload in the evidence; weight 0.85",
			"physical — a rate no line carries: one announce's upload over its interval at ten times max_rate or more",
			"supporting only (never report on their own; they raise a physical score P by S·P of what is left): impossible rate below ten times max_rate (100 MiB/s, ×seedbox_rate_mul on declared seedboxes; honest seedboxes reach it); upload announced while the swarm had no other leecher (≥ 3 announces); unnatural regularity (rate CV under 2 % or repeated deltas over ≥ 6 announces); client fingerprint (peer_id version against every version the user agent names, rare (client, key class, parameter order) among ≥ 10 members, with 7- and 8-digit hex keys one class and ipv6/ipv4/ip/localip, event and corrupt optional)",
		},
		LookAlikes:  "co-seeders of a faker's swarm (the fit gives the excess to the member whose claims explain it on every swarm it touches, not to whoever shares one swarm with it), seedboxes and fast seeders (rate and regularity alone never report; their bytes are downloaded), fresh-release rushes (the rush's leechers acquire what was uploaded), restarts, lost `stopped` and dynamic addresses (`left` shows the content acquired across sessions; a day-torrent no share explains is down-weighted), rTorrent and Transmission's fingerprints (supporting only, and the known client variants are not rare)",
		Incremental: "members with a new announce at an impossible rate or above jump_size_multiple × the torrent size, uploaders of a new torrent-hour with one uploader and one downloader, members the swarm-balance fit (made once per clock hour) blames, and members whose new announces show a fingerprint mismatch — each over the whole lookback",
	}
}

type fuPeerRow struct {
	UserID             uint64  `ch:"user_id"`
	TorrentID          uint64  `ch:"torrent_id"`
	Peer               string  `ch:"peer"`
	Network            string  `ch:"network"`
	Uploaded           uint64  `ch:"uploaded"`
	Downloaded         uint64  `ch:"downloaded"`
	Announces          uint64  `ch:"announces"`
	MaxRate            float64 `ch:"max_rate"`
	MaxDelta           float64 `ch:"max_delta"`
	NoLeecherUp        uint64  `ch:"no_leecher_up"`
	NoLeecherAnnounces uint64  `ch:"no_leecher_announces"`
	Rated              uint64  `ch:"rated"`
	RateCV             float64 `ch:"rate_cv"`
	DistinctDeltaShare float64 `ch:"distinct_delta_share"`
	MaxLeft            uint64  `ch:"max_left"`
}

type fuCollusionRow struct {
	UpUser   uint64 `ch:"up_user"`
	DownUser uint64 `ch:"down_user"`
	Torrents uint64 `ch:"torrents"`
	Bytes    uint64 `ch:"bytes"`
	TotalUp  uint64 `ch:"total_up"`
}

// fuUser accumulates one member's evidence.
type fuUser struct {
	uploaded, downloaded uint64
	maxRate, rateLimit   float64
	maxRateTorrent       uint64
	noLeecherUp          uint64
	noLeecherAnnounces   uint64
	maxJump              float64 // delta / size
	maxJumpTorrent       uint64
	regularPeers         int
	minCV                float64
	balance              *balanceVerdict
	collusionShare       float64
	collusionPartner     uint64
	collusionTorrents    uint64
	collusionBytes       uint64
	fingerprint          []string
	fingerprintStrength  float64
	torrents             map[uint64]*TorrentRow
}

func (u *fuUser) torrent(id uint64) *TorrentRow {
	r := u.torrents[id]
	if r == nil {
		r = &TorrentRow{TorrentID: id, Values: map[string]float64{}}
		u.torrents[id] = r
	}
	return r
}

// Run implements Detector.
func (d FakedUpload) Run(ctx context.Context, env *Env, w Window) ([]Finding, error) {
	c := env.Config.FakedUpload
	users := map[uint64]*fuUser{}
	get := func(id uint64) *fuUser {
		u := users[id]
		if u == nil {
			u = &fuUser{torrents: map[uint64]*TorrentRow{}, minCV: math.Inf(1)}
			users[id] = u
		}
		return u
	}

	// Per-peer signals.
	var peers []fuPeerRow
	p := windowParams(w)
	p["min_rate_bytes"] = c.MinRateBytes
	if err := selectRows(ctx, env, &peers, "fu_peers", p); err != nil {
		return nil, err
	}
	maxLeft := map[uint64]uint64{}
	for _, r := range peers {
		maxLeft[r.TorrentID] = max(maxLeft[r.TorrentID], r.MaxLeft)
	}
	sizes, err := torrentSizes(ctx, env, maxLeft)
	if err != nil {
		return nil, err
	}
	if env.subjects != nil {
		if err := otherPeersLeft(ctx, env, w, sizes); err != nil {
			return nil, err
		}
	}
	swarmDowns, err := swarmDown(ctx, env, w)
	if err != nil {
		return nil, err
	}
	for _, r := range peers {
		u := get(r.UserID)
		u.uploaded += r.Uploaded
		u.downloaded += r.Downloaded
		t := u.torrent(r.TorrentID)
		t.Size = sizes[r.TorrentID]
		t.Uploaded += r.Uploaded
		t.Downloaded += r.Downloaded
		limit := c.MaxRate
		if env.Exempt.Seedbox(r.UserID, NetworkFromString(r.Network)) {
			limit *= c.SeedboxRateMul
		}
		if r.MaxRate/limit > u.maxRate/math.Max(u.rateLimit, 1) {
			u.maxRate, u.rateLimit, u.maxRateTorrent = r.MaxRate, limit, r.TorrentID
		}
		t.Values["max_rate_bytes_per_s"] = math.Max(t.Values["max_rate_bytes_per_s"], r.MaxRate)
		u.noLeecherUp += r.NoLeecherUp
		u.noLeecherAnnounces += r.NoLeecherAnnounces
		t.Values["no_leecher_upload_bytes"] += float64(r.NoLeecherUp)
		if size := sizes[r.TorrentID]; size > 0 {
			j := r.MaxDelta / float64(max(size, swarmDowns[r.TorrentID]))
			t.Values["max_delta_size_multiple"] = math.Max(t.Values["max_delta_size_multiple"], j)
			if j > u.maxJump {
				u.maxJump, u.maxJumpTorrent = j, r.TorrentID
			}
		}
		if int(r.Rated) >= c.RegularMinAnnounces {
			cv := r.RateCV
			if r.DistinctDeltaShare <= 0.5 {
				cv = math.Min(cv, 0) // repeated identical deltas: as regular as it gets
			}
			if cv <= c.RegularMaxCV {
				u.regularPeers++
			}
			u.minCV = math.Min(u.minCV, cv)
			t.Values["rate_cv"] = r.RateCV
		}
	}

	// Swarm balance (fitted once per pass; an incremental pass reuses the
	// fit Triggers made).
	bal, _, err := swarmBalance(ctx, env, w, c)
	if err != nil {
		return nil, err
	}
	for id, v := range bal {
		if env.subjects != nil && !containsID(env.subjects, id) {
			continue
		}
		if v.Alpha <= 0 {
			continue
		}
		u := get(id)
		u.balance = v
		for tid, bt := range v.Torrents {
			t := u.torrent(tid)
			t.Values["swarm_excess_bytes"] = bt.Excess
			t.Values["swarm_acquired_bytes"] = bt.Downloaded
			t.Values["unexplained_bytes"] = v.Alpha * bt.Up
			if t.Uploaded == 0 {
				t.Uploaded = uint64(bt.Up)
			}
			if t.Size == 0 {
				t.Size = sizes[tid]
			}
		}
	}

	// Collusion.
	col, err := collusionPairs(ctx, env, w, c.CollusionMinTorrents)
	if err != nil {
		return nil, err
	}
	for _, r := range col {
		if r.TotalUp == 0 {
			continue
		}
		share := float64(r.Bytes) / float64(r.TotalUp)
		// Both sides of the pair: the downloader's account is the one the
		// fake upload was staged for.
		for _, side := range [2][2]uint64{{r.UpUser, r.DownUser}, {r.DownUser, r.UpUser}} {
			if env.subjects != nil && !containsID(env.subjects, side[0]) {
				continue
			}
			u := get(side[0])
			if r.Torrents > u.collusionTorrents || r.Torrents == u.collusionTorrents && share > u.collusionShare {
				u.collusionShare, u.collusionPartner, u.collusionTorrents, u.collusionBytes = share, side[1], r.Torrents, r.Bytes
			}
		}
	}

	// Fingerprints.
	fps, _, err := fingerprints(ctx, env, w)
	if err != nil {
		return nil, err
	}
	for id, fp := range fps {
		if _, ok := users[id]; !ok {
			continue // only members who uploaded can have faked upload
		}
		u := get(id)
		u.fingerprint, u.fingerprintStrength = fp.notes, fp.strength
	}

	var out []Finding
	for _, id := range sortedKeys(users) {
		u := users[id]
		if u.uploaded == 0 && u.collusionBytes == 0 {
			continue
		}
		f, ok := d.finding(id, u, c, w)
		if ok {
			out = append(out, f)
		}
	}
	return out, attachSeries(ctx, env, w, out)
}

// Triggers implements Triggered: members with a new announce whose upload
// alone fires the impossible-rate or counter-jump signal, uploaders of a
// new torrent-hour traded with a single other member (collusion), uploaders
// whose removal explains an unbalanced closed swarm active since the last
// pass (conservation), and members whose new announces show a client
// fingerprint mismatch (rarity counted over every member's fingerprints in
// the lookback, read once an hour, and in the new rows).
// Regularity and no-leecher upload are weak alone (weights 0.3 and 0.15:
// under the report threshold together) and ride on these.
func (FakedUpload) Triggers(ctx context.Context, env *Env, w Window) ([]uint64, error) {
	c := env.Config.FakedUpload
	p := windowParams(newRows(w))
	p["min_rate_bytes"] = c.MinRateBytes
	p["max_rate"] = c.MaxRate
	p["jump_multiple"] = c.JumpSizeMultiple
	out, err := triggerUsers(ctx, env, "tr_faked_upload", p)
	if err != nil {
		return nil, err
	}
	p = windowParams(hourOf(w))
	col, err := triggerUsers(ctx, env, "tr_collusion", p)
	if err != nil {
		return nil, err
	}
	out = append(out, col...)
	// The members the fit blames, when this pass made the fit: the passes
	// that reuse it (the rest of the clock hour) have re-evaluated them.
	bal, newFit, err := swarmBalance(ctx, env, w, c)
	if err != nil {
		return nil, err
	}
	for id, v := range bal {
		if newFit && balanceFires(v, c) {
			out = append(out, id)
		}
	}
	if env.pass.fpPopulation, err = fingerprintPopulation(ctx, env, w); err != nil {
		return nil, err
	}
	fps, fresh, err := fingerprints(ctx, env, newRows(w))
	if err != nil {
		return nil, err
	}
	env.pass.fpPopulation = append(append([]fpRow(nil), env.pass.fpPopulation...), fresh...)
	for id, fp := range fps {
		if fp.strength > 0 {
			out = append(out, id)
		}
	}
	return out, nil
}

func (d FakedUpload) finding(id uint64, u *fuUser, c FakedUploadConfig, w Window) (Finding, bool) {
	var sig []Signal
	sig = append(sig, signal("impossible_rate", u.maxRate, math.Max(u.rateLimit, c.MaxRate), 0.9, "bytes/s",
		"fastest announce (≥ min_rate_bytes) on torrent "+strconv.FormatUint(u.maxRateTorrent, 10)))
	nl := Signal{Name: "no_leecher_upload", Value: float64(u.noLeecherUp), Threshold: float64(c.NoLeecherMinBytes),
		Unit: "bytes", Weight: 0.15,
		Note: fmt.Sprintf("%d announces uploaded with no other leecher at this and the previous announce", u.noLeecherAnnounces)}
	if u.noLeecherAnnounces >= 3 && u.noLeecherUp >= c.NoLeecherMinBytes && u.uploaded > 0 {
		nl.Strength = strength(float64(u.noLeecherUp)/float64(u.uploaded), 0.5)
		nl.Fired = nl.Strength > 0
	}
	sig = append(sig, nl)
	sig = append(sig, signal("counter_jump", u.maxJump, c.JumpSizeMultiple, 0.95, "× max(size, swarm download)",
		"largest single upload delta over the larger of the torrent size and the swarm's download in the window, on torrent "+strconv.FormatUint(u.maxJumpTorrent, 10)))
	sig = append(sig, balanceSignal(u.balance, c))
	reg := Signal{Name: "unnatural_regularity", Value: float64(u.regularPeers), Threshold: 1, Unit: "peers", Weight: 0.3,
		Note: "peers whose upload rate varies less than regular_max_cv or repeats the same delta"}
	if u.regularPeers > 0 {
		reg.Fired, reg.Strength = true, strengthBelow(math.Max(u.minCV, 0), c.RegularMaxCV)
	}
	sig = append(sig, reg)
	fp := Signal{Name: "fingerprint_mismatch", Value: u.fingerprintStrength, Threshold: 0.5, Weight: 0.6}
	if u.fingerprintStrength > 0 {
		fp.Fired, fp.Strength = true, u.fingerprintStrength
		fp.Note = joinNotes(u.fingerprint)
	}
	sig = append(sig, fp)
	col := signal("collusion", float64(u.collusionTorrents), float64(c.CollusionMinTorrents), 0.85, "torrents",
		fmt.Sprintf("%d torrents traded only with member %d (%s, %.0f%% of the uploader's upload)", u.collusionTorrents, u.collusionPartner,
			formatBytes(float64(u.collusionBytes)), 100*u.collusionShare))
	sig = append(sig, col)

	score := combineGated(sig, fuPhysical)
	if score == 0 {
		return Finding{}, false
	}
	var rows []TorrentRow
	for _, t := range u.torrents {
		rows = append(rows, *t)
	}
	mag := float64(u.noLeecherUp)
	if u.balance != nil && balanceFires(u.balance, c) {
		mag = math.Max(mag, u.balance.FakeBytes)
	}
	if u.maxJump >= c.JumpSizeMultiple || u.maxRate >= u.rateLimit {
		mag = math.Max(mag, float64(u.uploaded))
	}
	mag = math.Max(mag, float64(u.collusionBytes))
	f := userFinding(d.Name(), id, w, sig, mag,
		fmt.Sprintf("member %d uploaded %d bytes (raw) and downloaded %d in the window; %s", id, u.uploaded, u.downloaded, firedNames(sig)))
	f.Evidence.Torrents = topTorrents(rows, 20)
	if u.collusionPartner != 0 {
		f.Evidence.Details = map[string]any{"collusion_partner": u.collusionPartner}
	}
	return f, true
}

// fuPhysical tells the physical signals of faked upload: bytes no swarm
// downloaded (swarm balance, counter jumps), a pair trading only with each
// other, and a rate no line carries (ten times max_rate). The rest only
// raise a score these give.
func fuPhysical(s Signal) bool {
	switch s.Name {
	case "swarm_balance", "counter_jump", "collusion":
		return true
	case "impossible_rate":
		return s.Threshold > 0 && s.Value >= 10*s.Threshold
	}
	return false
}

// containsID reports whether the sorted ids hold id.
func containsID(ids []uint64, id uint64) bool {
	i := sort.Search(len(ids), func(i int) bool { return ids[i] >= id })
	return i < len(ids) && ids[i] == id
}
