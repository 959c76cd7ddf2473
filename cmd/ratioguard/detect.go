package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/ratioguard/ratioguard/detectors"
	"github.com/ratioguard/ratioguard/detectors/quality"
	"github.com/ratioguard/ratioguard/internal/config"
	"github.com/ratioguard/ratioguard/internal/pgconn"
)

func runDetect(ctx context.Context, env *cliEnv, args []string) error {
	eng := config.FromEnv()
	fs := newFlagSet(env, "detect")
	eng.RegisterFlags(fs)
	once := fs.Bool("once", false, "run one pass and exit")
	since := fs.String("since", "", "backfill: evaluate history from this time (RFC 3339), implies --once")
	until := fs.String("until", "", "backfill: evaluate up to this time (RFC 3339; default now)")
	activeSince := fs.String("active-since", "", "incremental pass: re-evaluate only subjects active since this time (RFC 3339), each detector over its lookback; implies --once")
	interval := fs.Duration("interval", 5*time.Minute, "time between scheduled passes")
	replayStep := fs.Duration("replay-step", 0, "with --since and --until: run the scheduled passes on a simulated clock instead of one backfill pass — the first (full) at --since plus the step, then an incremental pass every step up to --until, each re-reading the previous step as the scheduler does; writes no detector_state; prints totals per detector")
	cfgPath := fs.String("config", "", "detector thresholds and exemptions (JSON; default built-in)")
	only := fs.String("detectors", "", "comma-separated detector names (default all)")
	describe := fs.Bool("describe", false, "print the detectors and thresholds as Markdown and exit")
	qual := fs.Bool("quality", false, "print the quality-bar tables of docs/DETECTION.md for the arguments SPEC=EVAL.json[=FACTS] (sim eval --json output; FACTS: key=value lines — timings, generator, name, heldout, incremental_eval=PATH) and exit")
	asJSON := fs.Bool("json", false, "print pass statistics as JSON")
	adminAddr := adminFlag(fs, defaultDetectAdmin)
	priority := fs.Int("priority", 0, "ClickHouse priority of this process's queries (1 highest; 0 none); a scheduled detect runs its every-pass detectors at 1 and the periodic ones at 10")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *qual {
		pops, err := quality.Load(fs.Args())
		if err != nil {
			return usageError{err.Error()}
		}
		return quality.Markdown(env.stdout, pops)
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected arguments %v", fs.Args())}
	}
	cfg, err := detectors.LoadConfig(*cfgPath)
	if err != nil {
		return usageError{err.Error()}
	}
	ds, err := detectors.ByName(config.SplitList(*only))
	if err != nil {
		return usageError{err.Error()}
	}
	if *describe {
		return detectors.WriteMarkdown(env.stdout, describedConfig(ctx, env, eng, cfg), ds)
	}
	var from, to time.Time
	if *since != "" {
		if from, err = time.Parse(time.RFC3339, *since); err != nil {
			return usageError{fmt.Sprintf("--since: %v", err)}
		}
		*once = true
	}
	if *until != "" {
		if to, err = time.Parse(time.RFC3339, *until); err != nil {
			return usageError{fmt.Sprintf("--until: %v", err)}
		}
		*once = true
	}
	var active time.Time
	if *activeSince != "" {
		if active, err = time.Parse(time.RFC3339, *activeSince); err != nil {
			return usageError{fmt.Sprintf("--active-since: %v", err)}
		}
		*once = true
	}
	if !from.IsZero() && !to.IsZero() && !to.After(from) {
		return usageError{"--until must be after --since"}
	}
	if *replayStep < 0 || (*replayStep > 0 && (from.IsZero() || to.IsZero() || !active.IsZero())) {
		return usageError{"--replay-step needs a positive step, --since and --until, and no --active-since"}
	}

	// Scheduled passes run for as long as the process: they are watched on
	// the admin address (one-off passes and replays print their statistics).
	var metrics *detectors.Metrics
	ready := func() {} // once the stores are connected
	if !*once && *replayStep == 0 {
		adm, stopAdmin, err := startAdmin(ctx, env, fs, "detect", *adminAddr)
		if err != nil {
			return err
		}
		defer stopAdmin()
		if metrics, err = detectors.NewMetrics(adm.Registry(), names(ds)); err != nil {
			return err
		}
		ready = func() { adm.Check("detect", func(context.Context) error { return metrics.Ready() }) }
	}
	pg, ch, closeStores, err := connectStores(ctx, eng)
	if err != nil {
		return err
	}
	defer closeStores()
	// The thresholds admins stored in Postgres apply over the file's, now
	// and (Scheduler.Reload) at the start of every scheduled pass.
	base := cfg
	if eff, err := detectors.EffectiveConfig(ctx, pg, base); err != nil {
		env.log.Error("detector settings not applied; using the config file's thresholds", "err", err)
	} else {
		cfg = eff
	}
	// openRunner opens a runner for a group of detectors; its close is
	// bounded and logged.
	openRunner := func(group []detectors.Detector) (*detectors.Runner, func(), error) {
		r, err := detectors.NewRunner(ctx, cfg, pg, ch, env.log, group)
		if err != nil {
			return nil, nil, err
		}
		return r, func() {
			closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			if err := r.Close(closeCtx); err != nil {
				env.log.Warn("close detector runner", "detectors", strings.Join(names(group), ","), "err", err)
			}
		}, nil
	}
	runner, closeRunner, err := openRunner(ds)
	if err != nil {
		return err
	}
	defer closeRunner()
	ready()

	var printMu sync.Mutex // two schedulers may print at once
	print := func(stats []detectors.RunStats) error {
		printMu.Lock()
		defer printMu.Unlock()
		if *asJSON {
			return json.NewEncoder(env.stdout).Encode(stats)
		}
		for _, s := range stats {
			fmt.Fprintf(env.stdout, "%-18s findings=%-4d inserted=%-4d updated=%-4d suppressed=%-4d exempted=%-4d %s %s\n",
				s.Detector, s.Findings, s.Inserted, s.Updated+s.Touched, s.Suppressed, s.Exempted, s.Duration.Round(time.Millisecond), s.Err)
		}
		return nil
	}
	if *replayStep > 0 {
		return replaySchedule(detectors.WithPriority(ctx, *priority), env, runner, from, to, *replayStep, *asJSON)
	}
	if *once {
		if to.IsZero() {
			to = time.Now()
		}
		stats, _, err := runner.Pass(detectors.WithPriority(ctx, *priority), from, to, active)
		if perr := print(stats); perr != nil {
			return perr
		}
		return err
	}
	// Periodic detectors (account_selling: hourly, over 60 days) run in a
	// scheduler of their own beside the every-pass ones, so the 5-minute
	// passes never wait for them.
	every, periodic := detectors.SplitPeriodic(cfg, ds)
	schedule := func(ctx context.Context, r *detectors.Runner, key string, group []detectors.Detector) error {
		s := &detectors.Scheduler{
			Runner:   r,
			Interval: *interval,
			Key:      key,
			Reload:   r.Reloader(base, env.log),
			Metrics:  metrics,
			OnPass: func(stats []detectors.RunStats, err error) {
				if err != nil {
					env.log.Error("detector pass failed", "scheduler", key, "err", err)
				}
				_ = print(stats)
			},
		}
		env.log.Info("detectors scheduled", "scheduler", key, "interval", *interval, "detectors", strings.Join(names(group), ","))
		return s.Run(ctx)
	}
	if len(every) == 0 || len(periodic) == 0 {
		return schedule(detectors.WithPriority(ctx, *priority), runner, "scheduler", ds)
	}
	runner.Detectors = every
	side, closeSide, err := openRunner(periodic)
	if err != nil {
		return err
	}
	defer closeSide()
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	errc := make(chan error, 1)
	// ClickHouse pauses the periodic scheduler's queries while an every-pass
	// query runs: on a busy server the 5-minute passes keep their pace.
	go func() { errc <- schedule(detectors.WithPriority(ctx, 10), side, "scheduler:periodic", periodic) }()
	err = schedule(detectors.WithPriority(ctx, 1), runner, "scheduler", every)
	stop()
	return errors.Join(err, <-errc)
}

// describedConfig is cfg with the thresholds stored in Postgres applied,
// as a scheduled pass would use them; without a reachable Postgres (or with
// invalid stored thresholds) it is cfg, and the log says why.
func describedConfig(ctx context.Context, env *cliEnv, eng config.Engines, cfg *detectors.Config) *detectors.Config {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	pg, err := pgconn.Connect(ctx, eng.PostgresURL)
	if err != nil {
		env.log.Warn("thresholds stored in Postgres not read; describing the config file's", "err", err)
		return cfg
	}
	defer pg.Close()
	eff, err := detectors.EffectiveConfig(ctx, pg, cfg)
	if err != nil {
		env.log.Warn("thresholds stored in Postgres not applied; describing the config file's", "err", err)
		return cfg
	}
	return eff
}

func names(ds []detectors.Detector) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.Name()
	}
	return out
}

// replayTotals is what --replay-step prints: the passes and, per detector,
// the sums of their statistics.
type replayTotals struct {
	Passes    int                 `json:"passes"`
	Step      string              `json:"step"`
	From      time.Time           `json:"from"`
	Until     time.Time           `json:"until"`
	Elapsed   time.Duration       `json:"elapsed_ns"`
	MaxPass   time.Duration       `json:"max_pass_ns"`
	Detectors []replayDetectorSum `json:"detectors"`
	Errors    []string            `json:"errors,omitempty"`
}

type replayDetectorSum struct {
	Detector string        `json:"detector"`
	Runs     int           `json:"runs"`
	Skipped  int           `json:"skipped"`
	Findings int           `json:"findings"`
	Inserted int           `json:"inserted"`
	Updated  int           `json:"updated"`
	Exempted int           `json:"exempted"`
	Duration time.Duration `json:"duration_ns"`
	Max      time.Duration `json:"max_ns"`
}

// replaySchedule runs the scheduler's passes on a simulated clock: what
// `detect` would have done had it run every step from --since to --until.
// Each detector evaluates its own lookback ending at the pass's time, so a
// pass sees only what had been announced by then.
func replaySchedule(ctx context.Context, env *cliEnv, runner *detectors.Runner, from, to time.Time, step time.Duration, asJSON bool) error {
	tot := replayTotals{Step: step.String(), From: from, Until: to}
	idx := map[string]int{}
	start := time.Now()
	var prev, lastLog time.Time
	for until := from.Add(step); ; until = until.Add(step) {
		if until.After(to) {
			until = to
		}
		var activeSince time.Time // the first pass is full, as the scheduler's
		if !prev.IsZero() {
			activeSince = prev.Add(-step)
		}
		t0 := time.Now()
		stats, _, err := runner.PassAfter(ctx, time.Time{}, until, activeSince, prev)
		tot.Passes++
		tot.MaxPass = max(tot.MaxPass, time.Since(t0))
		for _, st := range stats {
			i, ok := idx[st.Detector]
			if !ok {
				i = len(tot.Detectors)
				idx[st.Detector] = i
				tot.Detectors = append(tot.Detectors, replayDetectorSum{Detector: st.Detector})
			}
			d := &tot.Detectors[i]
			if st.Skipped {
				d.Skipped++
				continue
			}
			d.Runs++
			d.Findings += st.Findings
			d.Inserted += st.Inserted
			d.Updated += st.Updated + st.Touched
			d.Exempted += st.Exempted
			d.Duration += st.Duration
			d.Max = max(d.Max, st.Duration)
		}
		if err != nil {
			tot.Errors = append(tot.Errors, until.Format(time.RFC3339)+": "+err.Error())
			env.log.Error("replayed detector pass failed", "at", until, "err", err)
		}
		if ctx.Err() != nil {
			break
		}
		if until.Sub(lastLog) >= 24*time.Hour || !until.Before(to) {
			env.log.Info("replayed detector passes", "at", until.Format(time.RFC3339), "passes", tot.Passes, "elapsed", time.Since(start).Round(time.Second))
			lastLog = until
		}
		prev = until
		if !until.Before(to) {
			break
		}
	}
	tot.Elapsed = time.Since(start)
	if asJSON {
		if err := json.NewEncoder(env.stdout).Encode(tot); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(env.stdout, "%d passes every %s from %s to %s in %s (slowest %s)\n", tot.Passes, step, from.Format(time.RFC3339), to.Format(time.RFC3339),
			tot.Elapsed.Round(time.Millisecond), tot.MaxPass.Round(time.Millisecond))
		for _, d := range tot.Detectors {
			fmt.Fprintf(env.stdout, "%-18s runs=%-5d skipped=%-5d findings=%-6d inserted=%-4d updated=%-6d exempted=%-4d total %s, slowest %s\n",
				d.Detector, d.Runs, d.Skipped, d.Findings, d.Inserted, d.Updated, d.Exempted, d.Duration.Round(time.Millisecond), d.Max.Round(time.Millisecond))
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if len(tot.Errors) > 0 {
		return fmt.Errorf("%d of %d replayed passes failed; first: %s", len(tot.Errors), tot.Passes, tot.Errors[0])
	}
	return nil
}
