package detectors

import (
	"context"
	"fmt"
	"time"
)

// CloudLeech flags offline-download / cloud leech services: torrents
// downloaded at datacenter speed and dropped right after completing, with
// almost nothing uploaded.
type CloudLeech struct{}

// Name implements Detector.
func (CloudLeech) Name() string { return "cloud_leech" }

// Lookback implements Detector.
func (CloudLeech) Lookback(c *Config) time.Duration { return c.CloudLeech.Lookback.Duration }

// Doc implements Detector.
func (CloudLeech) Doc() Doc {
	return Doc{
		Title:   "Offline-download / cloud leech",
		Catches: "leech services (download, stop right after completing, never seed)",
		Signals: []string{
			"share of completed torrents stopped within max_seed_seconds of completing (≥ min_user_torrents of them)",
			"raw upload/download ratio below max_network_ratio",
			"the same network used that way by min_network_users members",
		},
		LookAlikes:  "restarts (a stop followed by another announce is not a drop), members who seed for a while then stop",
		Incremental: "members who dropped a torrent since the previous pass within max_seed_seconds of completing it, over the whole lookback",
	}
}

type cloudRow struct {
	UserID      uint64   `ch:"user_id"`
	Completed   uint64   `ch:"completed"`
	Dumped      uint64   `ch:"dumped"`
	Uploaded    uint64   `ch:"uploaded"`
	Downloaded  uint64   `ch:"downloaded"`
	MaxDownRate float64  `ch:"max_down_rate"`
	Networks    []string `ch:"networks"`
}

// Run implements Detector.
func (d CloudLeech) Run(ctx context.Context, env *Env, w Window) ([]Finding, error) {
	c := env.Config.CloudLeech
	var rows []cloudRow
	p := windowParams(w)
	p["min_torrents"] = uint64(c.MinUserTorrents)
	p["max_seed_seconds"] = c.MaxSeedSeconds
	if err := selectRows(ctx, env, &rows, "cloud_leech", p); err != nil {
		return nil, err
	}
	netUsers := map[Network]int{}
	for _, r := range rows {
		for _, n := range r.Networks {
			netUsers[NetworkFromString(n)]++
		}
	}
	var out []Finding
	for _, r := range rows {
		share := float64(r.Dumped) / float64(max(r.Completed, 1))
		ratio := float64(r.Uploaded) / float64(max(r.Downloaded, 1))
		shared := 0
		for _, n := range r.Networks {
			shared = max(shared, netUsers[NetworkFromString(n)])
		}
		sig := []Signal{
			signal("dropped_after_completion_share", share, 0.8, 0.7, "share of completed", fmt.Sprintf("%d of %d completed torrents", r.Dumped, r.Completed)),
			{Name: "raw_ratio", Value: ratio, Threshold: c.MaxNetworkRatio, Weight: 0.5,
				Strength: strengthBelow(ratio, c.MaxNetworkRatio), Fired: ratio <= c.MaxNetworkRatio},
			signal("members_on_same_network", float64(shared), float64(c.MinNetworkUsers), 0.4, "members", ""),
		}
		if share < 0.8 {
			continue // the other signals only matter for members who drop torrents
		}
		f := userFinding(d.Name(), r.UserID, w, sig, float64(r.Downloaded),
			fmt.Sprintf("member %d dropped %d of %d completed torrents within %d s, raw ratio %.3f, fastest download %.0f bytes/s; %s",
				r.UserID, r.Dumped, r.Completed, c.MaxSeedSeconds, ratio, r.MaxDownRate, firedNames(sig)))
		out = append(out, f)
	}
	return out, attachSeries(ctx, env, w, out)
}

// GhostLeecher flags members whose peers download while reporting nothing:
// `left` never moves and `downloaded` stays 0 for hours in swarms that have
// seeders, or they even upload while claiming to hold no piece.
type GhostLeecher struct{}

// Name implements Detector.
func (GhostLeecher) Name() string { return "ghost_leecher" }

// Lookback implements Detector.
func (GhostLeecher) Lookback(c *Config) time.Duration { return c.GhostLeecher.Lookback.Duration }

// Doc implements Detector.
func (GhostLeecher) Doc() Doc {
	return Doc{
		Title:   "Ghost leechers",
		Catches: "ghost leechers (download for real, report downloaded=0 and left unchanged)",
		Signals: []string{
			"peers uploading while reporting they hold nothing (left = the torrent's size, downloaded 0): impossible for an honest client",
			"blind completions: a peer's left goes from > 0 to 0 while it never reports a downloaded byte",
			"peers stuck at their first `left` with nothing downloaded for ≥ 2 h in a swarm with seeders, on ≥ min_torrents torrents (weight 0.45: supporting only)",
		},
		LookAlikes:  "stalled leechers in swarms without seeders (not counted), cross-seeders (left 0 from the start), resumed leechers (left below the size), restarted clients keeping their peer_id (they reported downloaded bytes before the reset)",
		Incremental: "members with a new announce of a peer that has downloaded nothing yet (past its first announce, with seeders or uploading) or completes blind, over the whole lookback",
	}
}

type ghostRow struct {
	UserID           uint64   `ch:"user_id"`
	Stuck            uint64   `ch:"stuck"`
	ImpossibleUpload uint64   `ch:"impossible_upload"`
	BlindCompletions uint64   `ch:"blind_completions"`
	Uploaded         uint64   `ch:"uploaded"`
	ClaimedLeft      uint64   `ch:"claimed_left"`
	Torrents         []uint64 `ch:"torrents"`
}

// Run implements Detector.
func (d GhostLeecher) Run(ctx context.Context, env *Env, w Window) ([]Finding, error) {
	c := env.Config.GhostLeecher
	var rows []ghostRow
	p := windowParams(w)
	p["min_torrents"] = uint64(c.MinTorrents)
	if err := selectRows(ctx, env, &rows, "ghost_leecher", p); err != nil {
		return nil, err
	}
	var out []Finding
	for _, r := range rows {
		sig := []Signal{
			signal("upload_while_holding_nothing", float64(r.ImpossibleUpload), 1, 0.9, "torrents", fmt.Sprintf("%d bytes uploaded", r.Uploaded)),
			signal("blind_completions", float64(r.BlindCompletions), 1, 0.9, "torrents", "left reached 0 with nothing downloaded"),
			signal("stuck_with_seeders", float64(r.Stuck), float64(c.MinTorrents), 0.45, "torrents", "alone never enough: honest leechers stall in busy swarms too"),
		}
		f := userFinding(d.Name(), r.UserID, w, sig, float64(r.ClaimedLeft),
			fmt.Sprintf("member %d: %d peers uploaded while claiming nothing downloaded, %d completed without downloading, %d stuck with seeders; %s",
				r.UserID, r.ImpossibleUpload, r.BlindCompletions, r.Stuck, firedNames(sig)))
		f.Evidence.Details = map[string]any{"torrents": r.Torrents}
		out = append(out, f)
	}
	return out, attachSeries(ctx, env, w, out)
}

// Triggers implements Triggered: members who dropped a torrent since the
// last pass within max_seed_seconds of completing it (the only way the
// dropped share grows).
func (CloudLeech) Triggers(ctx context.Context, env *Env, w Window) ([]uint64, error) {
	c := env.Config.CloudLeech
	nw := newRows(w)
	nw.From = nw.From.Add(-time.Duration(c.MaxSeedSeconds) * time.Second)
	p := windowParams(nw)
	p["active_since"] = unix(w.ActiveSince)
	p["max_seed_seconds"] = c.MaxSeedSeconds
	return triggerUsers(ctx, env, "tr_cloud_leech", p)
}

// Triggers implements Triggered: members with a new announce of a peer that
// downloaded nothing yet (stuck, uploading, or completing blind).
func (GhostLeecher) Triggers(ctx context.Context, env *Env, w Window) ([]uint64, error) {
	return triggerUsers(ctx, env, "tr_ghost_leecher", windowParams(newRows(w)))
}
