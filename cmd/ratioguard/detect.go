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
	cfgPath := fs.String("config", "", "detector thresholds and exemptions (JSON; default built-in)")
	only := fs.String("detectors", "", "comma-separated detector names (default all)")
	describe := fs.Bool("describe", false, "print the detectors and thresholds as Markdown and exit")
	qual := fs.Bool("quality", false, "print the quality-bar tables of docs/DETECTION.md for the arguments SPEC=EVAL.json[=TIMES] (sim eval --json output) and exit")
	asJSON := fs.Bool("json", false, "print pass statistics as JSON")
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
		return detectors.WriteMarkdown(env.stdout, cfg, ds)
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

	pg, ch, closeStores, err := connectStores(ctx, eng)
	if err != nil {
		return err
	}
	defer closeStores()
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
			Reload:   r.ReloadExemptions,
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

func names(ds []detectors.Detector) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.Name()
	}
	return out
}
