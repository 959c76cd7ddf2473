package detectors

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"
)

// CloudLeech flags offline-download / cloud leech services: a member's
// passkey in the hands of an offline-download client (Xunlei and the like),
// whether the client rules refused it or not, and downloads completed at
// datacenter speed, uploading nothing and dropped right after completing.
type CloudLeech struct{}

// Name implements Detector.
func (CloudLeech) Name() string { return "cloud_leech" }

// Lookback implements Detector.
func (CloudLeech) Lookback(c *Config) time.Duration { return c.CloudLeech.Lookback.Duration }

// Doc implements Detector.
func (CloudLeech) Doc() Doc {
	return Doc{
		Title:   "Offline-download / cloud leech",
		Catches: "leech services (offline-download clients on the passkey; download at datacenter speed, never upload, stop right after completing) — this detector owns a passkey that an offline-download client keeps trying even when the client rules refuse every try",
		Signals: []string{
			"every count is over accepted announces and those the client rules refused (a refused announce still names the member, torrent, address and peer_id, and carries the client's counters)",
			"physical — offline-download client: announces whose peer_id starts with one of offline_clients (-XL, -SD Xunlei, -XF, -QD), on ≥ min_offline_torrents distinct torrents; weight 0.65, so on its own from about 5 torrents — one refused client on a torrent or two never reports",
			"physical — leech downloads: completed at ≥ min_down_rate (25 MiB/s: what was left at the first announce over the time to completion, at least a minute), uploading at most max_network_ratio of it, stopped within max_seed_seconds with no announce after, outside the member's declared seedboxes; ≥ min_fast_dumps of them; weight 0.5, so on its own only from about 7",
			"physical — drops after every completion: ≥ min_drops torrents stopped within max_seed_seconds of completing, 90 % or more of those completed, by a member whose raw upload/download ratio is under 0.25 (colluding pairs drop their staged downloads too but upload as much); weight 0.5, so on its own only from about 48",
			"supporting only (they raise a physical score P by S·P of what is left): each leech download from an address of its own (a different server per download; weight 0.3); share of completed torrents dropped within max_seed_seconds ≥ 0.8 over ≥ min_user_torrents (0.3); raw upload/download ratio below max_network_ratio (0.3); the network of its leech downloads used that way by ≥ min_network_users members (0.3)",
		},
		LookAlikes:  "a member who tries a banned client once (one or two torrents: under min_offline_torrents), hit-and-run members (home lines download far below 25 MiB/s; on popgen at most 19 drops in three weeks, at most 53 % of their completions; declared seedboxes are not counted), seedboxes and fast members who seed (no drop, or they upload while downloading), restarts (a stop followed by another announce is not a drop). A leaked passkey whose strangers include an offline-download client is reported here too when that client reaches min_offline_torrents (leaked_passkey reports the strangers); a fast undeclared box that deletes every download minutes after completing, uploading under 5 %, is reported from about 7 such downloads in the lookback",
		Incremental: "members with a new announce of an offline-download client (accepted or refused), or who dropped a torrent since the previous pass within max_seed_seconds of completing it, over the whole lookback",
	}
}

type cloudRow struct {
	UserID           uint64   `ch:"user_id"`
	OfflineTorrents  uint64   `ch:"offline_torrents"`
	OfflineAnnounces uint64   `ch:"offline_announces"`
	OfflineRefused   uint64   `ch:"offline_refused"`
	OfflineClients   []string `ch:"offline_clients"`
	Completed        uint64   `ch:"completed"`
	Dumped           uint64   `ch:"dumped"`
	DumpIPs          []string `ch:"dump_ips"`
	DumpNetworks     []string `ch:"dump_networks"`
	Uploaded         uint64   `ch:"uploaded"`
	Downloaded       uint64   `ch:"downloaded"`
	MaxDownRate      float64  `ch:"max_down_rate"`
	Networks         []string `ch:"networks"`
}

// Run implements Detector.
func (d CloudLeech) Run(ctx context.Context, env *Env, w Window) ([]Finding, error) {
	c := env.Config.CloudLeech
	var rows []cloudRow
	p := windowParams(w)
	p["max_seed_seconds"] = c.MaxSeedSeconds
	p["offline_clients"] = offlineClients(c)
	p["min_down_rate"] = c.MinDownRate
	p["max_ratio"] = c.MaxNetworkRatio
	p["min_drops"] = uint64(max(c.MinDrops, 1))
	if err := selectRows(ctx, env, &rows, "cloud_leech", p); err != nil {
		return nil, err
	}
	// Leech downloads off the member's declared seedboxes; the members of
	// each network that leech that way.
	type dumps struct {
		n     int
		addrs map[string]bool
		nets  map[Network]bool
	}
	byUser := make([]dumps, len(rows))
	netUsers := map[Network]int{}
	for i, r := range rows {
		dd := dumps{addrs: map[string]bool{}, nets: map[Network]bool{}}
		for k, ns := range r.DumpNetworks {
			n := NetworkFromString(ns)
			if env.Exempt != nil && env.Exempt.NetworkExempt(r.UserID, n) {
				continue
			}
			dd.n++
			if k < len(r.DumpIPs) {
				dd.addrs[r.DumpIPs[k]] = true
			}
			dd.nets[n] = true
		}
		for n := range dd.nets {
			netUsers[n]++
		}
		byUser[i] = dd
	}
	physical := func(s Signal) bool {
		return s.Name == "offline_client_torrents" || s.Name == "leech_downloads" || s.Name == "drops_after_every_completion"
	}
	var out []Finding
	for i, r := range rows {
		dd := byUser[i]
		share := float64(r.Dumped) / float64(max(r.Completed, 1))
		ratio := float64(r.Uploaded) / float64(max(r.Downloaded, 1))
		// Dropping every completion counts from a member who uploads next to
		// nothing overall: colluding pairs drop their staged downloads too,
		// but upload about as much as they download.
		everyDrop := share >= 0.9 && int(r.Dumped) >= c.MinDrops && ratio < dropsMaxRatio
		if int(r.OfflineTorrents) < c.MinOfflineTorrents && dd.n < c.MinFastDumps && !everyDrop {
			continue // no physical evidence
		}
		shared := 0
		for n := range dd.nets {
			shared = max(shared, netUsers[n])
		}
		sig := []Signal{
			signal("offline_client_torrents", float64(r.OfflineTorrents), float64(c.MinOfflineTorrents), 0.65, "torrents",
				fmt.Sprintf("%d announces by %s, %d of them refused", r.OfflineAnnounces, strings.Join(r.OfflineClients, " "), r.OfflineRefused)),
			signal("leech_downloads", float64(dd.n), float64(c.MinFastDumps), 0.5, "downloads",
				fmt.Sprintf("completed at ≥ %.0f MiB/s, uploaded ≤ %.0f %%, stopped within %d s", c.MinDownRate/(1<<20), 100*c.MaxNetworkRatio, c.MaxSeedSeconds)),
			signal("drops_after_every_completion", float64(r.Dumped), float64(c.MinDrops), 0.5, "torrents",
				fmt.Sprintf("%d of %d completed torrents stopped within %d s (counts from 90 %%)", r.Dumped, r.Completed, c.MaxSeedSeconds)),
			signal("address_per_download", float64(len(dd.addrs)), float64(max(dd.n, c.MinFastDumps)), 0.3, "addresses", "a different server per download"),
		}
		if !everyDrop {
			sig[2].Fired, sig[2].Strength = false, 0
		}
		sh := Signal{Name: "dropped_after_completion_share", Value: share, Threshold: 0.8, Unit: "share of completed", Weight: 0.3,
			Note: fmt.Sprintf("%d of %d completed torrents", r.Dumped, r.Completed)}
		if int(r.Completed) >= c.MinUserTorrents && share >= 0.8 {
			sh.Strength, sh.Fired = strength(share, 0.8), true
		}
		sig = append(sig, sh,
			Signal{Name: "raw_ratio", Value: ratio, Threshold: c.MaxNetworkRatio, Weight: 0.3,
				Strength: strengthBelow(ratio, c.MaxNetworkRatio), Fired: r.Downloaded > 0 && ratio <= c.MaxNetworkRatio},
			signal("members_on_same_network", float64(shared), float64(c.MinNetworkUsers), 0.3, "members", ""))
		if !sig[len(sig)-2].Fired {
			sig[len(sig)-2].Strength = 0
		}
		// Magnitude: the torrents and downloads that are evidence.
		magnitude := float64(r.OfflineTorrents) + float64(dd.n)
		if everyDrop {
			magnitude = max(magnitude, float64(r.Dumped))
		}
		f := userFinding(d.Name(), r.UserID, w, sig, magnitude,
			fmt.Sprintf("member %d: offline-download client on %d torrents (%d announces, %d refused), %d downloads at datacenter speed dropped within %d s of completing, %d of %d completed torrents dropped; raw ratio %.3f, fastest download %.0f bytes/s; %s",
				r.UserID, r.OfflineTorrents, r.OfflineAnnounces, r.OfflineRefused, dd.n, c.MaxSeedSeconds, r.Dumped, r.Completed, ratio, r.MaxDownRate, firedNames(sig)))
		f.Score = combineGated(sig, physical)
		f.Evidence.Details = map[string]any{"offline_clients": r.OfflineClients}
		if r.OfflineTorrents > 0 {
			f.Evidence.Details["recommendation"] = "reset the passkey: an offline-download client holds it"
		}
		out = append(out, f)
	}
	return out, attachSeries(ctx, env, w, out)
}

// GhostLeecher flags members holding leecher slots for days in swarms that
// have seeders while downloading nothing and never completing, and peers
// that download while reporting nothing (they upload while claiming to hold
// no piece, or complete without a downloaded byte).
type GhostLeecher struct{}

// Name implements Detector.
func (GhostLeecher) Name() string { return "ghost_leecher" }

// Lookback implements Detector.
func (GhostLeecher) Lookback(c *Config) time.Duration { return c.GhostLeecher.Lookback.Duration }

// Cadence implements Periodic.
func (GhostLeecher) Cadence(c *Config) time.Duration { return c.GhostLeecher.Cadence.Duration }

// Doc implements Detector.
func (GhostLeecher) Doc() Doc {
	return Doc{
		Title:   "Ghost leechers",
		Catches: "ghost leechers: leecher slots held for days on swarms that have seeders, nothing downloaded, never completing; and clients that download for real while reporting downloaded=0 and left unchanged",
		Signals: []string{
			"physical — held slots: peer sessions at the torrent's full size (`left` never moved), nothing downloaded, never completing, announcing for ≥ min_hold (24 h) with seeders in ≥ min_seeded_share (80 %) of the tracker's answers, at least min_held_slots (3) of them; weight 0.85",
			"physical — peers uploading while reporting they hold nothing (left = the torrent's size, downloaded 0): impossible for an honest client; weight 0.9",
			"physical — blind completions: a peer's left goes from > 0 to 0 while it never reports a downloaded byte; weight 0.9",
			"supporting only (they raise a physical score P by S·P of what is left): the peak of held slots at once, from min_held_slots (weight 0.5); peers stuck at their first `left` with nothing downloaded for ≥ 2 h with a seeder at some point, on ≥ min_torrents torrents (0.45)",
		},
		LookAlikes:  "honest leechers stuck on swarms nobody seeds (seeders in under 80 % of the answers: not held, however long), leechers whose swarm's only seeder is a faker or a peer whose `stopped` was lost (hours, not days: measured at most 5.4 h with seeders on popgen), cross-seeders (left 0 from the start), resumed leechers (left below the size), restarted clients keeping their peer_id (they reported downloaded bytes before the reset), one or two slots held (under min_held_slots)",
		Incremental: "members with a new announce of a peer that has downloaded nothing yet (past its first announce, with seeders or uploading: every announce of a held slot is one) or completes blind, over the whole lookback",
	}
}

type ghostRow struct {
	UserID           uint64   `ch:"user_id"`
	Stuck            uint64   `ch:"stuck"`
	ImpossibleUpload uint64   `ch:"impossible_upload"`
	BlindCompletions uint64   `ch:"blind_completions"`
	Held             uint64   `ch:"held"`
	HeldFrom         []uint32 `ch:"held_from"`
	HeldUntil        []uint32 `ch:"held_until"`
	HeldTorrents     []uint64 `ch:"held_torrents"`
	Uploaded         uint64   `ch:"uploaded"`
	ClaimedLeft      uint64   `ch:"claimed_left"`
	Torrents         []uint64 `ch:"torrents"`
}

// peakOverlap is the most intervals [from[i], until[i]] open at one time.
func peakOverlap(from, until []uint32) int {
	type edge struct {
		t    uint32
		open int
	}
	es := make([]edge, 0, 2*len(from))
	for i := range from {
		if i < len(until) {
			es = append(es, edge{from[i], 1}, edge{until[i], -1})
		}
	}
	sort.Slice(es, func(i, j int) bool {
		if es[i].t != es[j].t {
			return es[i].t < es[j].t
		}
		return es[i].open > es[j].open // touching intervals overlap
	})
	cur, peak := 0, 0
	for _, e := range es {
		cur += e.open
		peak = max(peak, cur)
	}
	return peak
}

// Run implements Detector.
func (d GhostLeecher) Run(ctx context.Context, env *Env, w Window) ([]Finding, error) {
	c := env.Config.GhostLeecher
	var rows []ghostRow
	p := windowParams(w)
	p["min_torrents"] = uint64(c.MinTorrents)
	p["min_hold"] = uint32(c.MinHold.Seconds())
	p["min_seeded_share"] = c.MinSeededShare
	if err := selectRows(ctx, env, &rows, "ghost_leecher", p); err != nil {
		return nil, err
	}
	physical := func(s Signal) bool { return s.Name != "stuck_with_seeders" && s.Name != "peak_held_at_once" }
	var out []Finding
	for _, r := range rows {
		peak := peakOverlap(r.HeldFrom, r.HeldUntil)
		sig := []Signal{
			signal("held_slots", float64(r.Held), float64(max(c.MinHeldSlots, 1)), 0.85, "slots",
				fmt.Sprintf("leecher slots held ≥ %s with seeders in ≥ %.0f %% of the answers, nothing downloaded, never completing", c.MinHold.Duration, 100*c.MinSeededShare)),
			signal("upload_while_holding_nothing", float64(r.ImpossibleUpload), 1, 0.9, "torrents", fmt.Sprintf("%d bytes uploaded", r.Uploaded)),
			signal("blind_completions", float64(r.BlindCompletions), 1, 0.9, "torrents", "left reached 0 with nothing downloaded"),
			signal("peak_held_at_once", float64(peak), float64(max(c.MinHeldSlots, 1)), 0.5, "slots", "supporting only"),
			signal("stuck_with_seeders", float64(r.Stuck), float64(c.MinTorrents), 0.45, "torrents", "supporting only: honest leechers stall in busy swarms for hours too"),
		}
		if r.Held < uint64(c.MinHeldSlots) {
			sig[3].Fired, sig[3].Strength = false, 0 // the peak of fewer slots than the floor is no evidence
		}
		f := userFinding(d.Name(), r.UserID, w, sig, float64(r.ClaimedLeft),
			fmt.Sprintf("member %d: %d leecher slots held ≥ %s in seeded swarms with nothing downloaded (%d at once), %d peers uploaded while claiming nothing downloaded, %d completed without downloading, %d stuck ≥ 2 h with seeders; %s",
				r.UserID, r.Held, c.MinHold.Duration, peak, r.ImpossibleUpload, r.BlindCompletions, r.Stuck, firedNames(sig)))
		f.Score = combineGated(sig, physical)
		f.Evidence.Details = map[string]any{"torrents": r.Torrents, "held_torrents": r.HeldTorrents}
		out = append(out, f)
	}
	return out, attachSeries(ctx, env, w, out)
}

// dropsMaxRatio is the raw upload/download ratio under which dropping every
// completion is evidence of a leech service.
const dropsMaxRatio = 0.25

// offlineClients is the offline_clients parameter: never an empty array
// (ClickHouse 18.16 cannot type one); "\x00" matches no peer_id prefix.
func offlineClients(c CloudLeechConfig) []string {
	if len(c.OfflineClients) == 0 {
		return []string{"\x00"}
	}
	return append([]string(nil), c.OfflineClients...)
}

// Triggers implements Triggered: members with a new announce of an
// offline-download client (the only way offline_client_torrents grows), or
// who dropped a torrent since the last pass within max_seed_seconds of
// completing it (the only way leech downloads, their addresses and the
// dropped share grow).
func (CloudLeech) Triggers(ctx context.Context, env *Env, w Window) ([]uint64, error) {
	c := env.Config.CloudLeech
	nw := newRows(w)
	nw.From = nw.From.Add(-time.Duration(c.MaxSeedSeconds) * time.Second)
	p := windowParams(nw)
	p["active_since"] = unix(w.ActiveSince)
	p["max_seed_seconds"] = c.MaxSeedSeconds
	p["offline_clients"] = offlineClients(c)
	return triggerUsers(ctx, env, "tr_cloud_leech", p)
}

// Triggers implements Triggered: members with a new announce of a peer that
// downloaded nothing yet (stuck, uploading, or completing blind).
func (GhostLeecher) Triggers(ctx context.Context, env *Env, w Window) ([]uint64, error) {
	return triggerUsers(ctx, env, "tr_ghost_leecher", windowParams(newRows(w)))
}
