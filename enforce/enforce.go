package enforce

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ratioguard/ratioguard/enforce/rules"
	"github.com/ratioguard/ratioguard/enforce/store"
)

// lockKey is the Postgres advisory lock held by a (non-dry) run: one
// enforcer at a time.
const lockKey int64 = 0x7267_656e_666f_7263 // "rgenforc"

// Options configure a Runner.
type Options struct {
	Config rules.Config
	Clock  Clock        // nil: WallClock
	Log    *slog.Logger // nil: discard
	DryRun bool
	// Progress is how often a long apply phase logs its progress (default 5 s).
	Progress time.Duration
	// Metrics, if set, records every change's outcome and each pass of Loop.
	Metrics *Metrics
}

// Runner runs enforcement passes against one Postgres.
type Runner struct {
	pool  *pgxpool.Pool
	store *store.Store
	opt   Options
}

// New validates the configuration and returns a runner.
func New(pool *pgxpool.Pool, opt Options) (*Runner, error) {
	if err := opt.Config.Validate(); err != nil {
		return nil, fmt.Errorf("enforcement config: %w", err)
	}
	if opt.Clock == nil {
		opt.Clock = WallClock{}
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	if opt.Progress <= 0 {
		opt.Progress = 5 * time.Second
	}
	return &Runner{pool: pool, store: store.New(pool, opt.Config), opt: opt}, nil
}

// Result is what one pass did.
type Result struct {
	Now     time.Time `json:"now"`
	DryRun  bool      `json:"dry_run"`
	Members int       `json:"members"`
	// UnseenPast counts the members the ratio rule did not judge: site
	// members whose past was not imported (no opening balance).
	UnseenPast int         `json:"unseen_past"`
	Planned    []store.Row `json:"planned"`
	Changes    int         `json:"changes"`
	Applied    int         `json:"applied"`
	Unchanged  int         `json:"unchanged"` // already in place when applied
	Failed     int         `json:"failed"`
	Errors     []string    `json:"errors,omitempty"`
	Sampled    int64       `json:"seed_samples"`
	LoadTime   Duration    `json:"load_time"`
	ApplyTime  Duration    `json:"apply_time"`
}

// Duration marshals as a Go duration string.
type Duration time.Duration

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// ErrLocked means another enforce run holds the lock.
var ErrLocked = errors.New("another enforce run is in progress (advisory lock held)")

// Once runs one pass. Failed changes are counted and logged, and the pass
// goes on; the error is for failures of the pass itself.
func (r *Runner) Once(ctx context.Context) (*Result, error) {
	now := r.opt.Clock.Now()
	res := &Result{Now: now, DryRun: r.opt.DryRun}
	log := r.opt.Log.With("dry_run", r.opt.DryRun)
	if !r.opt.DryRun {
		unlock, err := r.lock(ctx)
		if err != nil {
			return res, err
		}
		defer unlock()
		runID, err := r.startRun(ctx, now)
		if err != nil {
			return res, err
		}
		defer func() { r.finishRun(runID, res) }()
		if res.Sampled, _, err = r.store.SampleSeedtime(ctx, now); err != nil {
			return res, err
		}
	}
	t0 := time.Now()
	snap, err := r.store.Load(ctx, now)
	if err != nil {
		return res, err
	}
	res.Members = len(snap.Members)
	for _, m := range snap.Members {
		if m.UnseenPast {
			res.UnseenPast++
		}
	}
	changes := Plan(snap, r.opt.Config, now)
	res.Changes = len(changes)
	for _, c := range changes {
		res.Planned = append(res.Planned, c.Rows()...)
	}
	res.LoadTime = Duration(time.Since(t0))
	log.Info("enforce: planned", "now", now, "members", res.Members, "unseen_past", res.UnseenPast, "reports", len(snap.Reports),
		"hnr_candidates", len(snap.Candidates), "seeding_rows", len(snap.Seeding), "changes", len(changes),
		"took", time.Since(t0).Round(time.Millisecond))
	if r.opt.DryRun {
		return res, nil
	}
	t1 := time.Now()
	last := t1
	for i, c := range changes {
		if err := ctx.Err(); err != nil {
			return res, fmt.Errorf("enforce interrupted after %d of %d changes: %w", i, len(changes), err)
		}
		applied, err := r.store.Apply(ctx, c, now)
		switch {
		case err != nil:
			res.Failed++
			r.opt.Metrics.change(c, "failed")
			msg := fmt.Sprintf("%s: %v", describe(c), err)
			res.Errors = append(res.Errors, msg)
			log.Error("enforce: change failed", "change", describe(c), "err", err)
			if v, ok := c.(store.VerdictChange); ok {
				if rerr := r.store.RecordVerdictError(ctx, v.Report.ID, err.Error()); rerr != nil {
					log.Error("enforce: recording verdict error", "err", rerr)
				}
			}
		case applied:
			res.Applied++
			r.opt.Metrics.change(c, "applied")
		default:
			res.Unchanged++
			r.opt.Metrics.change(c, "unchanged")
		}
		if time.Since(last) >= r.opt.Progress {
			last = time.Now()
			log.Info("enforce: progress", "done", i+1, "total", len(changes), "applied", res.Applied,
				"failed", res.Failed, "per_second", fmt.Sprintf("%.0f", float64(i+1)/time.Since(t1).Seconds()))
		}
	}
	res.ApplyTime = Duration(time.Since(t1))
	log.Info("enforce: pass done", "applied", res.Applied, "unchanged", res.Unchanged, "failed", res.Failed,
		"took", time.Since(t0).Round(time.Millisecond))
	return res, nil
}

func describe(c store.Change) string {
	rows := c.Rows()
	if len(rows) == 0 {
		return fmt.Sprintf("%T", c)
	}
	return fmt.Sprintf("%s %s (user %d): %s", rows[0].Rule, rows[0].Member, rows[0].UserID, rows[0].Planned)
}

// Loop runs a pass every interval until ctx ends. A failed pass is logged
// and retried at the next tick; each result goes to report (may be nil).
func (r *Runner) Loop(ctx context.Context, interval time.Duration, report func(*Result, error)) error {
	if interval <= 0 {
		return fmt.Errorf("enforce loop: interval must be > 0, got %s", interval)
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		start := time.Now()
		res, err := r.Once(ctx)
		if ctx.Err() == nil {
			r.opt.Metrics.passDone(res, time.Since(start), err)
		}
		if err != nil && ctx.Err() == nil {
			r.opt.Log.Error("enforce: pass failed", "err", err)
		}
		if report != nil {
			report(res, err)
		}
		if ctx.Err() != nil { // stopped during the pass: no tick starts another
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// lock takes the advisory lock on a dedicated connection.
func (r *Runner) lock(ctx context.Context) (func(), error) {
	conn, err := r.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("acquire connection for the enforce lock: %w", err)
	}
	var ok bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, lockKey).Scan(&ok); err != nil {
		conn.Release()
		return nil, fmt.Errorf("take the enforce lock: %w", err)
	}
	if !ok {
		conn.Release()
		return nil, ErrLocked
	}
	return func() {
		c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := conn.Exec(c, `SELECT pg_advisory_unlock($1)`, lockKey); err != nil {
			conn.Conn().Close(c) // closing the session releases the lock
		}
		conn.Release()
	}, nil
}

func (r *Runner) startRun(ctx context.Context, now time.Time) (int64, error) {
	var id int64
	if err := r.pool.QueryRow(ctx, `INSERT INTO enforce_runs (started_at) VALUES ($1) RETURNING id`, now).Scan(&id); err != nil {
		return 0, fmt.Errorf("record enforce run: %w", err)
	}
	return id, nil
}

func (r *Runner) finishRun(id int64, res *Result) {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var errText *string
	if len(res.Errors) > 0 {
		s := res.Errors[0]
		errText = &s
	}
	if _, err := r.pool.Exec(c, `UPDATE enforce_runs SET finished_at = $2, planned = $3, applied = $4, failed = $5, error = $6
		WHERE id = $1`, id, res.Now.Add(time.Duration(res.LoadTime+res.ApplyTime)), res.Changes, res.Applied, res.Failed, errText); err != nil {
		r.opt.Log.Error("enforce: recording run end", "err", err)
	}
}
