package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/ratioguard/ratioguard/internal/ops"
)

// stage is one long-running subcommand that `all` runs in-process.
type stage struct {
	name string
	run  func(ctx context.Context, env *cliEnv, args []string) error
	args *string
	// configured, if set, says whether the stage runs at all (given its flags).
	configured func(args string) bool
}

func runAll(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlagSet(env, "all")
	stages := []stage{
		{name: "tracker", run: runTracker},
		{name: "ingest", run: runIngest},
		{name: "detect", run: runDetect},
		{name: "enforce", run: runEnforce},
		{name: "reports", run: runReports},
		{name: "writeback", run: runWriteback, configured: writebackConfigured},
	}
	for i := range stages {
		stages[i].args = fs.String(stages[i].name+"-flags", "", "flags passed to `ratioguard "+stages[i].name+"` (space-separated)")
	}
	adminAddr := fs.String("admin-addr", defaultTrackerAdmin, "the one admin address of every stage: /metrics (every stage's metrics), /healthz, /readyz (ready when every stage is; each failing stage named) and the tracker's admin routes (empty: none)")
	without := fs.String("without", "", "comma-separated stages not to run (tracker, ingest, detect, enforce, reports, writeback; writeback runs only when a site database is configured)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	skip := map[string]bool{}
	for _, s := range strings.Split(*without, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		known := false
		for _, st := range stages {
			known = known || st.name == s
		}
		if !known {
			return usageError{fmt.Sprintf("--without: unknown stage %q", s)}
		}
		skip[s] = true
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// One operations listener for the process: one registry (the Go runtime
	// and process metrics once) and one /readyz over every stage.
	adm := ops.New(env.log)
	waitAdmin, err := adm.Start(ctx, *adminAddr)
	if err != nil {
		return err
	}
	defer func() { cancel(); waitAdmin() }()
	var wg sync.WaitGroup
	errc := make(chan error, len(stages))
	started := 0
	for _, st := range stages {
		if skip[st.name] || (st.configured != nil && !st.configured(*st.args)) {
			continue
		}
		started++
		senv := &cliEnv{stdout: env.stdout, stderr: env.stderr, log: env.log.With("stage", st.name), ops: adm}
		wg.Add(1)
		go func(st stage) {
			defer wg.Done()
			err := st.run(ctx, senv, strings.Fields(*st.args))
			if err == nil && ctx.Err() == nil {
				err = errors.New("stopped on its own")
			}
			if err != nil && ctx.Err() == nil {
				errc <- fmt.Errorf("%s: %w", st.name, err)
			}
		}(st)
	}
	if started == 0 {
		return usageError{"--without leaves no stage to run"}
	}
	env.log.Info("pipeline running", "stages", started)
	var first error
	select {
	case first = <-errc:
		env.log.Error("a stage failed; stopping the others", "err", first)
		cancel()
	case <-ctx.Done():
	}
	wg.Wait()
	return first
}
