package detectors

import (
	"context"
	"fmt"
	"time"
)

// rollupStatsName is the RunStats entry of the rollup refresh that opens a
// pass (it is no detector: nothing is recorded in detector_runs for it).
const rollupStatsName = "rollup_refresh"

// refreshRollups brings the hourly rollups (user_hour, torrent_hour,
// user_network_hour: no longer fed on the insert path) up to the raw table
// before the detectors read them. A pass with no activeSince (a full or
// backfill pass, or the scheduler's first) checks every hour; an
// incremental pass checks the hours from activeSince's on, which is where
// new rows land (the ingest's own builder catches late rows in older hours).
func (r *Runner) refreshRollups(ctx context.Context, activeSince time.Time) (RunStats, error) {
	from := time.Time{}
	if !activeSince.IsZero() {
		from = activeSince.Truncate(time.Hour)
	}
	start := time.Now()
	res, err := r.Rollups.Refresh(ctx, from)
	st := RunStats{Detector: rollupStatsName, From: from, Duration: time.Since(start), Rebuilt: res.Rebuilt}
	if err != nil {
		err = fmt.Errorf("refresh rollups before the detectors: %w", err)
		st.Err = err.Error()
	}
	if r.Env.Log != nil {
		r.Env.Log.Info("rollups refreshed", "from", from, "stale_hours", res.Stale, "rebuilt", res.Rebuilt,
			"duration", st.Duration, "err", st.Err)
	}
	return st, err
}

// Close drops the rollup builder's staging tables and closes the geo
// database.
func (r *Runner) Close(ctx context.Context) error {
	var err error
	if r.Rollups != nil {
		err = r.Rollups.Close(ctx)
	}
	r.Env.Geo.Close()
	return err
}
