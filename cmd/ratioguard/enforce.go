package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/ratioguard/ratioguard/enforce"
	"github.com/ratioguard/ratioguard/enforce/rules"
	"github.com/ratioguard/ratioguard/internal/config"
	"github.com/ratioguard/ratioguard/internal/pgconn"
)

func runEnforce(ctx context.Context, env *cliEnv, args []string) error {
	eng := config.FromEnv()
	fs := newFlagSet(env, "enforce")
	eng.RegisterFlags(fs)
	once := fs.Bool("once", false, "run one pass and exit (default: a pass every --interval)")
	dry := fs.Bool("dry-run", false, "print every planned change as a table and change nothing (implies --once)")
	interval := fs.Duration("interval", 10*time.Minute, "time between passes when looping")
	cfgPath := fs.String("config", "", "YAML file with the rule tables and thresholds (default: the built-in Gazelle policy)")
	printCfg := fs.Bool("print-config", false, "print the effective configuration as YAML and exit")
	asJSON := fs.Bool("json", false, "print the result (or the dry-run plan) as JSON")
	adminAddr := adminFlag(fs, defaultEnforceAdmin)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("enforce takes no arguments, got %q", fs.Args())}
	}
	if *interval <= 0 {
		return usageError{"--interval must be > 0"}
	}
	cfg := rules.Default()
	if *cfgPath != "" {
		var err error
		if cfg, err = rules.Load(*cfgPath); err != nil {
			return err
		}
	}
	if *printCfg {
		return rules.WriteYAML(env.stdout, cfg)
	}
	// The loop runs for as long as the process: it is watched on the admin
	// address (a single pass prints its result).
	var metrics *enforce.Metrics
	ready := func() {} // once Postgres is connected
	if !*once && !*dry {
		adm, stopAdmin, err := startAdmin(ctx, env, fs, "enforce", *adminAddr)
		if err != nil {
			return err
		}
		defer stopAdmin()
		if metrics, err = enforce.NewMetrics(adm.Registry()); err != nil {
			return err
		}
		ready = func() { adm.Check("enforce", func(context.Context) error { return metrics.Ready() }) }
	}
	pool, err := pgconn.Connect(ctx, eng.PostgresURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	r, err := enforce.New(pool, enforce.Options{Config: cfg, Log: env.log, DryRun: *dry, Metrics: metrics})
	if err != nil {
		return err
	}
	ready()
	print := func(res *enforce.Result) error {
		switch {
		case *asJSON:
			return json.NewEncoder(env.stdout).Encode(res)
		case *dry:
			if err := enforce.WriteTable(env.stdout, res.Planned); err != nil || res.UnseenPast == 0 {
				return err
			}
			_, err := fmt.Fprintf(env.stdout, "%d members not judged on ratio: their past on the site was not imported (docs/IMPORT.md, opening balances)\n",
				res.UnseenPast)
			return err
		}
		_, err := fmt.Fprintf(env.stdout, "%s: %d members, %d changes: %d applied, %d unchanged, %d failed (%s)\n",
			res.Now.UTC().Format(time.DateTime), res.Members, res.Changes, res.Applied, res.Unchanged, res.Failed,
			time.Duration(res.LoadTime+res.ApplyTime).Round(time.Millisecond))
		return err
	}
	if *once || *dry {
		res, err := r.Once(ctx)
		if err != nil {
			return err
		}
		if err := print(res); err != nil {
			return err
		}
		if res.Failed > 0 {
			return fmt.Errorf("%d changes failed; first: %s", res.Failed, res.Errors[0])
		}
		return nil
	}
	return r.Loop(ctx, *interval, func(res *enforce.Result, err error) {
		if err == nil {
			_ = print(res)
		}
	})
}
