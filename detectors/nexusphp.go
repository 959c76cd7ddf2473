package detectors

import (
	"context"
	"fmt"
	"time"
)

// NexusPHP is the baseline: NexusPHP's inline announce-time rules
// (check_cheater) at a security level, replayed on the same raw announces
// so its catches and misses sit beside the other detectors'.
type NexusPHP struct{}

// Name implements Detector.
func (NexusPHP) Name() string { return "nexusphp_baseline" }

// Lookback implements Detector.
func (NexusPHP) Lookback(c *Config) time.Duration { return c.NexusPHP.Lookback.Duration }

// Doc implements Detector.
func (NexusPHP) Doc() Doc {
	return Doc{
		Title:   "NexusPHP inline rules (baseline)",
		Catches: "what NexusPHP would flag: naive fakers above its speed limits",
		Signals: []string{
			"> 1 GiB in one announce faster than 1000 MiB/s ÷ level: account disabled",
			"> 1 GiB faster than 100 MiB/s ÷ level: abnormally high upload rate",
			"level ≥ 2: > 1 GiB faster than 1 MiB/s with fewer than 2×level leechers",
			"level ≥ 2: > 10 MiB faster than 100 KiB/s with no leecher",
		},
		LookAlikes:  "none modelled: fast seedboxes and honest seeders of small swarms trip it at strict levels",
		Incremental: "members whose new announces trip a rule, over the whole lookback",
	}
}

type nexusRow struct {
	UserID         uint64   `ch:"user_id"`
	DisableHits    uint64   `ch:"disable_hits"`
	HighRateHits   uint64   `ch:"high_rate_hits"`
	FewLeecherHits uint64   `ch:"few_leecher_hits"`
	NoLeecherHits  uint64   `ch:"no_leecher_hits"`
	MaxRate        float64  `ch:"max_rate"`
	Torrents       []uint64 `ch:"torrents"`
}

// Run implements Detector.
func (d NexusPHP) Run(ctx context.Context, env *Env, w Window) ([]Finding, error) {
	level := env.Config.NexusPHP.Level
	var rows []nexusRow
	p := windowParams(w)
	p["level"] = uint64(level)
	if err := selectRows(ctx, env, &rows, "nexusphp", p); err != nil {
		return nil, err
	}
	var out []Finding
	for _, r := range rows {
		mk := func(name string, hits uint64, score float64) Signal {
			return Signal{Name: name, Value: float64(hits), Threshold: 1, Unit: "announces", Fired: hits > 0,
				Weight: score, Strength: 1}
		}
		sig := []Signal{
			mk("disable: upload rate above 1000 MiB/s ÷ level", r.DisableHits, 1),
			mk("abnormally high upload rate", r.HighRateHits, 0.8),
			mk("fast upload with few leechers", r.FewLeecherHits, 0.6),
			mk("upload with no leecher", r.NoLeecherHits, 0.6),
		}
		f := userFinding(d.Name(), r.UserID, w, sig, float64(r.DisableHits+r.HighRateHits+r.FewLeecherHits+r.NoLeecherHits),
			fmt.Sprintf("NexusPHP level %d rules tripped (fastest announce %.0f bytes/s); %s", level, r.MaxRate, firedNames(sig)))
		f.Evidence.Details = map[string]any{"level": level, "torrents": r.Torrents, "max_rate_bytes_per_s": r.MaxRate}
		out = append(out, f)
	}
	return out, nil
}

// Triggers implements Triggered: every rule counts single announces, so the
// members whose new announces trip one are the members whose hits grew.
func (d NexusPHP) Triggers(ctx context.Context, env *Env, w Window) ([]uint64, error) {
	fs, err := d.Run(ctx, env, newRows(w))
	if err != nil {
		return nil, err
	}
	out := make([]uint64, len(fs))
	for i, f := range fs {
		out[i] = f.UserID
	}
	return out, nil
}
