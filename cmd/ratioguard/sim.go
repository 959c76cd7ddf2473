package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/ratioguard/ratioguard/internal/config"
	"github.com/ratioguard/ratioguard/internal/kafkaconn"
	"github.com/ratioguard/ratioguard/internal/pgconn"
	"github.com/ratioguard/ratioguard/schemas/events"
	"github.com/ratioguard/ratioguard/sim/eval"
	"github.com/ratioguard/ratioguard/sim/labels"
	"github.com/ratioguard/ratioguard/sim/live"
	"github.com/ratioguard/ratioguard/sim/popgen"
	"github.com/ratioguard/ratioguard/sim/population"
	"github.com/ratioguard/ratioguard/sim/replay"
	"github.com/ratioguard/ratioguard/sim/setup"
	"github.com/ratioguard/ratioguard/sim/spec"
)

const simUsage = `usage: ratioguard sim COMMAND [flags]

  setup   --spec F            create the run's members, torrents, seedbox ranges and labels in Postgres
  live    --spec F --tracker URL [--duration D]   drive a running tracker over HTTP in real time
  replay  --spec F [--days N] [--end-now]  run tracker/core on a simulated clock, events straight to Kafka
  eval    --run NAME          precision and recall of the detectors against the run's labels
  labels  --spec F --labels FILE write the ground truth (JSON, or CSV by extension) without Postgres
  labels  --popgen DIR --run NAME  load a popgen population's ground truth (DIR/labels.json) into sim_runs,
          sim_run_members and sim_labels, members matched by name (after ratioguard import site DIR/setup.json)`

func runSim(ctx context.Context, env *cliEnv, args []string) error {
	if len(args) == 0 {
		return usageError{simUsage}
	}
	switch args[0] {
	case "setup":
		return runSimSetup(ctx, env, args[1:])
	case "live":
		return runSimLive(ctx, env, args[1:])
	case "replay":
		return runSimReplay(ctx, env, args[1:])
	case "eval":
		return runSimEval(ctx, env, args[1:])
	case "labels":
		return runSimLabels(ctx, env, args[1:])
	case "-h", "--help", "help":
		fmt.Fprintln(env.stderr, simUsage)
		return nil
	}
	return usageError{fmt.Sprintf("unknown sim command %q\n\n%s", args[0], simUsage)}
}

// simFlags are the flags every sim command that builds a population shares.
type simFlags struct {
	spec     *string
	run      *string
	labels   *string
	asJSON   *bool
	duration *time.Duration
}

func addSimFlags(fs *flag.FlagSet, durationHelp string) simFlags {
	return simFlags{
		spec:     fs.String("spec", "", "population spec file (YAML), e.g. sim/specs/demo.yaml"),
		run:      fs.String("run", "", "run name (default sim<seed>)"),
		labels:   fs.String("labels", "", "also write the ground truth to this file (.json or .csv)"),
		asJSON:   fs.Bool("json", false, "print the result as JSON"),
		duration: fs.Duration("duration", 0, durationHelp),
	}
}

// span is the run length: --days, else --duration, else the spec's.
func (f simFlags) span(s *spec.Spec, days int) time.Duration {
	switch {
	case days > 0:
		return time.Duration(days) * 24 * time.Hour
	case *f.duration > 0:
		return *f.duration
	}
	return s.Duration
}

func (f simFlags) load(fs *flag.FlagSet, args []string) (*spec.Spec, error) {
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if *f.spec == "" {
		return nil, usageError{"--spec is required"}
	}
	if fs.NArg() > 0 {
		return nil, usageError{fmt.Sprintf("unexpected arguments %v", fs.Args())}
	}
	s, err := spec.Load(*f.spec)
	if err != nil {
		return nil, err
	}
	if *f.run == "" {
		*f.run = fmt.Sprintf("sim%d", s.Seed)
	}
	return s, nil
}

// prepare builds the population for [start, start+d), creates it in Postgres
// unless noSetup, and writes the labels file if asked.
func (f simFlags) prepare(ctx context.Context, env *cliEnv, eng config.Engines, s *spec.Spec, start time.Time, d time.Duration, noSetup bool) (*population.Population, error) {
	pop, err := population.Build(s, start, start.Add(d))
	if err != nil {
		return nil, err
	}
	set := labels.FromPopulation(*f.run, pop)
	if !noSetup {
		pool, err := pgconn.Connect(ctx, eng.PostgresURL)
		if err != nil {
			return nil, err
		}
		set, err = setup.Apply(ctx, pool, setup.Run{Name: *f.run, Seed: s.Seed, SpecName: s.Name}, pop)
		pool.Close()
		if err != nil {
			return nil, err
		}
		env.log.Info("sim setup", "run", *f.run, "members", len(pop.Members), "torrents", len(pop.Torrents), "labels", len(set.Labels))
	}
	if *f.labels != "" {
		if err := set.Write(*f.labels); err != nil {
			return nil, err
		}
	}
	return pop, nil
}

func (f simFlags) print(env *cliEnv, v any, text string) error {
	if *f.asJSON {
		return json.NewEncoder(env.stdout).Encode(v)
	}
	_, err := fmt.Fprintln(env.stdout, text)
	return err
}

func runSimSetup(ctx context.Context, env *cliEnv, args []string) error {
	eng := config.FromEnv()
	fs := newFlagSet(env, "sim setup")
	eng.RegisterFlags(fs)
	f := addSimFlags(fs, "length of the run the population is built for (default: the spec's)")
	s, err := f.load(fs, args)
	if err != nil {
		return err
	}
	d := f.span(s, 0)
	pop, err := f.prepare(ctx, env, eng, s, s.Start, d, false)
	if err != nil {
		return err
	}
	out := map[string]any{"run": *f.run, "members": len(pop.Members), "torrents": len(pop.Torrents), "seedbox_ranges": len(pop.SeedboxRanges)}
	return f.print(env, out, fmt.Sprintf("run %s: %d members, %d torrents, %d seedbox ranges in Postgres", *f.run, len(pop.Members), len(pop.Torrents), len(pop.SeedboxRanges)))
}

func runSimLabels(ctx context.Context, env *cliEnv, args []string) error {
	eng := config.FromEnv()
	fs := newFlagSet(env, "sim labels")
	eng.RegisterFlags(fs)
	f := addSimFlags(fs, "length of the run (default: the spec's)")
	days := fs.Int("days", 0, "length of the run in days (overrides --duration)")
	dir := fs.String("popgen", "", "a popgen output directory: store its labels.json in Postgres (members by name) instead of building a spec's")
	seed := fs.Uint64("seed", 0, "with --popgen: the seed popgen ran with, recorded in sim_runs")
	specName := fs.String("spec-name", "", "with --popgen: how the population was made, recorded in sim_runs (default popgen:DIR)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir != "" {
		return loadPopgenLabels(ctx, env, eng, fs, f, *dir, *seed, *specName)
	}
	s, err := f.load(fs, args)
	if err != nil {
		return err
	}
	if *f.labels == "" {
		return usageError{"--labels FILE is required"}
	}
	d := f.span(s, *days)
	pop, err := population.Build(s, s.Start, s.Start.Add(d))
	if err != nil {
		return err
	}
	set := labels.FromPopulation(*f.run, pop)
	if err := set.Write(*f.labels); err != nil {
		return err
	}
	return f.print(env, map[string]any{"run": *f.run, "labels": len(set.Labels), "file": *f.labels},
		fmt.Sprintf("%d labels of run %s written to %s (user ids are population order; `sim setup` stores the database ids)", len(set.Labels), *f.run, *f.labels))
}

// loadPopgenLabels stores a popgen population's ground truth as a named run.
func loadPopgenLabels(ctx context.Context, env *cliEnv, eng config.Engines, fs *flag.FlagSet, f simFlags, dir string, seed uint64, specName string) error {
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected arguments %v", fs.Args())}
	}
	if *f.run == "" {
		return usageError{"--run is required with --popgen"}
	}
	if *f.spec != "" {
		return usageError{"--spec and --popgen exclude each other"}
	}
	if specName == "" {
		specName = "popgen:" + dir
	}
	p, err := popgen.Read(dir)
	if err != nil {
		return err
	}
	pool, err := pgconn.Connect(ctx, eng.PostgresURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	set, err := setup.ApplyNamed(ctx, pool, setup.Named{Run: setup.Run{Name: *f.run, Seed: seed, SpecName: specName}, Members: p.Members, Start: p.Start, End: p.End, Labels: p.Labels})
	if err != nil {
		return err
	}
	if *f.labels != "" {
		if err := set.Write(*f.labels); err != nil {
			return err
		}
	}
	if len(p.Unknown) > 0 {
		env.log.Warn("popgen kinds outside the vocabulary, kept under their own names", "kinds", strings.Join(p.Unknown, ","))
	}
	cheaters, lookalikes := 0, 0
	for _, l := range set.Labels {
		if l.Role == labels.Cheater {
			cheaters++
		} else {
			lookalikes++
		}
	}
	out := map[string]any{"run": *f.run, "members": set.Members, "cheater_labels": cheaters, "lookalike_labels": lookalikes,
		"sim_start": p.Start.Format(time.RFC3339), "sim_end": p.End.Format(time.RFC3339), "unknown_kinds": p.Unknown}
	return f.print(env, out, fmt.Sprintf("run %s: %d members, %d cheater and %d look-alike labels, %s to %s, in Postgres",
		*f.run, set.Members, cheaters, lookalikes, p.Start.Format(time.RFC3339), p.End.Format(time.RFC3339)))
}

func runSimLive(ctx context.Context, env *cliEnv, args []string) error {
	eng := config.FromEnv()
	fs := newFlagSet(env, "sim live")
	eng.RegisterFlags(fs)
	f := addSimFlags(fs, "how long to run (default: the spec's duration)")
	tracker := fs.String("tracker", "http://"+config.Getenv(config.EnvTrackerAddr, config.DefaultTrackerAddr), "tracker base URL")
	workers := fs.Int("workers", 16, "concurrent HTTP connections")
	header := fs.String("addr-header", "X-Forwarded-For", "header carrying the simulated client address (X-Forwarded-For or X-Real-IP)")
	noSetup := fs.Bool("no-setup", false, "do not create the members and torrents in Postgres (they exist already)")
	s, err := f.load(fs, args)
	if err != nil {
		return err
	}
	d := f.span(s, 0)
	start := time.Now().Truncate(time.Second).Add(time.Second)
	pop, err := f.prepare(ctx, env, eng, s, start, d, *noSetup)
	if err != nil {
		return err
	}
	if err := live.WaitForPasskey(ctx, *tracker, pop.Members[len(pop.Members)-1].Passkey, pop.Torrents[len(pop.Torrents)-1].InfoHash, *header, 30*time.Second); err != nil {
		return err
	}
	// The wait may have taken a while: start the traffic now.
	start = time.Now().Truncate(time.Second).Add(time.Second)
	pop, err = rebuildAt(s, pop, start, d)
	if err != nil {
		return err
	}
	env.log.Info("sim live", "run", *f.run, "tracker", *tracker, "members", len(pop.Members), "duration", d)
	res, err := live.Run(ctx, s, pop, live.Options{
		Tracker: *tracker, Workers: *workers, AddrHeader: *header, Log: env.log,
		Progress: func(r live.Result) {
			env.log.Info("sim live progress", "announces", r.Announces, "answered", r.Answered, "refused", r.Refused, "errors", r.Errors)
		},
	})
	if err != nil {
		return err
	}
	return f.print(env, res, fmt.Sprintf("run %s: %d announces in %s: %d answered, %d refused %v, %d transport errors; latency p50 %s p99 %s",
		*f.run, res.Announces, res.Elapsed.Round(time.Millisecond), res.Answered, res.Refused, res.Refusals, res.Errors, res.P50, res.P99))
}

// rebuildAt builds the same population for a later start, keeping the
// database ids setup assigned.
func rebuildAt(s *spec.Spec, old *population.Population, start time.Time, d time.Duration) (*population.Population, error) {
	if old.Start.Equal(start) {
		return old, nil
	}
	pop, err := population.Build(s, start, start.Add(d))
	if err != nil {
		return nil, err
	}
	for i, m := range pop.Members {
		m.ID = old.Members[i].ID
	}
	ids := map[[20]byte]uint64{}
	for _, t := range old.Torrents {
		ids[t.InfoHash] = t.ID
	}
	for _, t := range pop.Torrents {
		if id, ok := ids[t.InfoHash]; ok {
			t.ID = id
		}
	}
	return pop, nil
}

func runSimReplay(ctx context.Context, env *cliEnv, args []string) error {
	eng := config.FromEnv()
	fs := newFlagSet(env, "sim replay")
	eng.RegisterFlags(fs)
	f := addSimFlags(fs, "simulated length (default: the spec's; --days overrides)")
	days := fs.Int("days", 0, "simulated days")
	topic := fs.String("topic", events.Topic, "Kafka topic")
	batch := fs.Int("batch", 5000, "events per Kafka write")
	noSetup := fs.Bool("no-setup", false, "do not create the members and torrents in Postgres (ids are then population order)")
	dryRun := fs.Bool("dry-run", false, "do not write to Kafka: count and hash the events only")
	endNow := fs.Bool("end-now", false, "end the simulated run at the present (start = now − its length) instead of starting it at the spec's start: history for a live tracker")
	s, err := f.load(fs, args)
	if err != nil {
		return err
	}
	d := f.span(s, *days)
	start := s.Start
	if *endNow {
		start = time.Now().Truncate(time.Second).Add(-d)
	}
	pop, err := f.prepare(ctx, env, eng, s, start, d, *noSetup || *dryRun)
	if err != nil {
		return err
	}
	opts := replay.Options{BatchSize: *batch, Log: env.log, Progress: func(now time.Time, r replay.Result) {
		env.log.Info("sim replay progress", "sim_time", now.Format(time.DateTime), "announces", r.Announces, "events", r.Events)
	}}
	if !*dryRun {
		if err := kafkaconn.EnsureTopic(ctx, eng.Brokers(), *topic, 4); err != nil {
			return err
		}
		w := kafkaconn.NewWriter(eng.Brokers(), *topic, 5*time.Millisecond)
		defer w.Close()
		opts.Writer = w
	}
	res, err := replay.Run(ctx, s, pop, opts)
	if err != nil {
		return err
	}
	if res.Unencodable > 0 {
		env.log.Warn("tracker core produced events protobuf cannot encode; they were not written", "count", res.Unencodable, "first", res.FirstEncodeError)
	}
	return f.print(env, res, fmt.Sprintf("run %s: %s to %s, %d members: %d announces, %d events (%d refused %v, %d with invalid UTF-8 replaced, %d unencodable), %.1f MB, in %s; sha256 %s",
		*f.run, res.SimStart.Format(time.DateOnly), res.SimEnd.Format(time.DateOnly), res.Members, res.Announces, res.Events, res.Refused, res.Refusals,
		res.Sanitized, res.Unencodable, float64(res.Bytes)/1e6, res.Elapsed.Round(time.Millisecond), res.Digest))
}

func runSimEval(ctx context.Context, env *cliEnv, args []string) error {
	eng := config.FromEnv()
	fs := newFlagSet(env, "sim eval")
	eng.RegisterFlags(fs)
	run := fs.String("run", "", "run name (sim<seed> unless --run was given to setup)")
	labelsFile := fs.String("labels", "", "read the labels from this file instead of sim_labels")
	excl := fs.Bool("exclude-dismissed", false, "ignore reports staff dismissed")
	asJSON := fs.Bool("json", false, "print the evaluation as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *run == "" {
		return usageError{"--run is required"}
	}
	pool, err := pgconn.Connect(ctx, eng.PostgresURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	set, err := setup.LoadLabels(ctx, pool, *run)
	if err != nil {
		return err
	}
	if *labelsFile != "" {
		file, err := labels.Read(*labelsFile)
		if err != nil {
			return err
		}
		if file.Run != *run {
			return errors.New("labels file is of run " + file.Run + ", not " + *run)
		}
		file.Members = set.Members
		set = file
	}
	flags, err := eval.LoadFlags(ctx, pool, *run)
	if err != nil {
		return err
	}
	rep := eval.Evaluate(set, flags, eval.Options{ExcludeDismissed: *excl})
	if *asJSON {
		return json.NewEncoder(env.stdout).Encode(rep)
	}
	return rep.Markdown(env.stdout)
}
