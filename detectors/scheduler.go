package detectors

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// schedulerKey is the detector_state row of the scheduler.
const schedulerKey = "scheduler"

// Scheduler repeats passes every Interval. The first pass after a start is
// full (every detector's lookback); later passes re-evaluate only subjects
// active since the previous pass ended, which is stored in Postgres so a
// restart resumes incrementally.
type Scheduler struct {
	Runner   *Runner
	Interval time.Duration
	// Key names the scheduler's row in detector_state (default
	// "scheduler"); schedulers running side by side need one each.
	Key string
	Now func() time.Time
	// Reload refreshes exemptions before each pass (nil: keep them).
	Reload func(ctx context.Context) error
	// OnPass is called after each pass (logging, tests).
	OnPass func(stats []RunStats, err error)
	// Metrics, if set, records each pass under Key.
	Metrics *Metrics
}

// Run passes until ctx ends. A failed pass is logged through OnPass and
// retried at the next tick; it does not advance the stored state.
func (s *Scheduler) Run(ctx context.Context) error {
	if s.Interval <= 0 {
		return fmt.Errorf("detector interval must be positive, got %v", s.Interval)
	}
	now := s.Now
	if now == nil {
		now = time.Now
	}
	t := time.NewTicker(s.Interval)
	defer t.Stop()
	key := s.Key
	if key == "" {
		key = schedulerKey
	}
	for {
		start := time.Now()
		stats, err := s.Once(ctx, now())
		if ctx.Err() == nil {
			s.Metrics.Observe(key, time.Since(start), stats, err)
		}
		if s.OnPass != nil {
			s.OnPass(stats, err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Once runs one incremental pass ending at until and records it.
func (s *Scheduler) Once(ctx context.Context, until time.Time) ([]RunStats, error) {
	if s.Reload != nil {
		if err := s.Reload(ctx); err != nil {
			return nil, err
		}
	}
	var since time.Time
	key := s.Key
	if key == "" {
		key = schedulerKey
	}
	pg := s.Runner.Env.PG
	if pg != nil {
		err := pg.QueryRow(ctx, sqlText("pg_state_get"), key).Scan(&since)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return nil, fmt.Errorf("read detector state: %w", err)
		}
	}
	// Announces reach ClickHouse with some ingest lag: re-read the last
	// interval again so nothing that landed late is skipped. Periodic
	// detectors are judged on the previous end, so they run once per
	// boundary.
	prev := since
	if !since.IsZero() {
		since = since.Add(-s.Interval)
	}
	stats, _, err := s.Runner.PassAfter(ctx, time.Time{}, until, since, prev)
	if err != nil {
		return stats, err
	}
	if pg != nil {
		if _, err := pg.Exec(ctx, sqlText("pg_state_set"), key, until); err != nil {
			return stats, fmt.Errorf("write detector state: %w", err)
		}
	}
	return stats, nil
}
