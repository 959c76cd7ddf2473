package rollup

import (
	"context"
	"time"
)

// RunConfig says how often Run refreshes.
type RunConfig struct {
	Every time.Duration // between refreshes of recent hours; default 15s
	// MaxDuty caps the share of wall time the builder spends rebuilding:
	// after a refresh that took d, the next starts no sooner than
	// d/MaxDuty - d later (default 0.25). A refresh rebuilds a whole hour, so
	// on a busy hour the rollups lag by about d/MaxDuty instead of the
	// builder rebuilding back to back.
	MaxDuty   float64
	Window    time.Duration // recent = from the latest hour seen minus Window; default 6h
	FullEvery time.Duration // between refreshes of all hours (late data); default 10m
	// Metrics, if set, records each refresh and the rollup lag.
	Metrics *Metrics
}

func (c *RunConfig) defaults() {
	if c.Every <= 0 {
		c.Every = 15 * time.Second
	}
	if c.Window <= 0 {
		c.Window = 6 * time.Hour
	}
	if c.MaxDuty <= 0 || c.MaxDuty > 1 {
		c.MaxDuty = 0.25
	}
	if c.FullEvery <= 0 {
		c.FullEvery = 10 * time.Minute
	}
}

// Run refreshes the rollups until ctx is done: every hour first, then the
// recent hours every cfg.Every and every hour again every cfg.FullEvery (an
// outage replay or a late batch can land in any hour). A failed refresh is
// logged and retried at the next tick; Run returns when ctx is done, after
// dropping its staging tables.
func (b *Builder) Run(ctx context.Context, cfg RunConfig) {
	cfg.defaults()
	var latest, lastFull time.Time
	for {
		full := lastFull.IsZero() || time.Since(lastFull) >= cfg.FullEvery
		from := time.Time{}
		if !full && !latest.IsZero() {
			from = latest.Add(-cfg.Window)
		}
		start := time.Now()
		res, err := b.Refresh(ctx, from)
		if ctx.Err() == nil {
			cfg.Metrics.observe(start, res, err)
		}
		switch {
		case ctx.Err() != nil:
		case err != nil:
			b.log.Warn("rollup refresh failed; retrying", "err", err, "rebuilt", res.Rebuilt)
		default:
			if full {
				lastFull = time.Now()
			}
			if res.Latest.After(latest) {
				latest = res.Latest
			}
			if res.Rebuilt > 0 {
				b.log.Info("rollups refreshed", "full", full, "hours", res.Stale, "rebuilt", res.Rebuilt, "took", res.Took.Round(time.Millisecond))
			}
		}
		select {
		case <-ctx.Done():
			closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			if err := b.Close(closeCtx); err != nil {
				b.log.Warn("drop rollup staging tables", "err", err)
			}
			cancel()
			return
		case <-time.After(cfg.pause(res.Took)):
		}
	}
}

// pause is the wait after a refresh that took took: Every, or longer when
// refreshes get long, so that they take at most MaxDuty of the time.
func (c RunConfig) pause(took time.Duration) time.Duration {
	return max(c.Every, time.Duration(float64(took)/c.MaxDuty)-took)
}
