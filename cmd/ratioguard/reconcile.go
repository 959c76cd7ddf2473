package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/ratioguard/ratioguard/ingest/clickhouse"
	"github.com/ratioguard/ratioguard/ingest/reconcile"
	"github.com/ratioguard/ratioguard/internal/config"
	"github.com/ratioguard/ratioguard/schemas/events"
)

func runReconcile(ctx context.Context, env *cliEnv, args []string) error {
	eng := config.FromEnv()
	fs := newFlagSet(env, "reconcile")
	eng.RegisterFlags(fs)
	topic := fs.String("topic", events.Topic, "Kafka topic both sinks consume")
	wait := fs.Duration("wait", 30*time.Second, "how long to wait for the ClickHouse loader to reach the ledger's offsets")
	rollups := fs.Bool("rollups", true, "also compare the user_hour rollup with the raw table")
	repair := fs.Bool("repair-views", false, "first rebuild, from the raw table, the view tables (ids, by-torrent copy, rollups) "+
		"of every month whose row counts differ from it (what a ClickHouse crash mid-insert leaves); stop the ClickHouse loader first")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	pg, ch, closeStores, err := connectStores(ctx, eng)
	if err != nil {
		return err
	}
	defer closeStores()
	if *repair {
		months, err := clickhouse.SuspectMonths(ctx, ch)
		if err != nil {
			return err
		}
		env.log.Info("rebuilding view tables", "months", months)
		if err := clickhouse.RebuildViews(ctx, ch, months); err != nil {
			return err
		}
	}
	rep, err := reconcile.Run(ctx, pg, ch, reconcile.Options{Topic: *topic, Wait: *wait, Rollups: *rollups})
	if err != nil {
		return err
	}
	if *asJSON {
		if rep.Diffs == nil {
			rep.Diffs = []reconcile.Diff{}
		}
		if err := json.NewEncoder(env.stdout).Encode(rep); err != nil {
			return err
		}
	} else {
		for _, d := range rep.Diffs {
			left, right := "ledger", "clickhouse"
			if d.Check == "rollup" {
				left, right = "user_hour", "raw"
			}
			fmt.Fprintf(env.stdout, "%s user %d %s: %s %d, %s %d (%+d)\n", d.Check, d.UserID, d.Field,
				left, d.Left, right, d.Right, int64(d.Left-d.Right))
		}
		for _, m := range rep.ViewMonths {
			fmt.Fprintf(env.stdout, "views month %d: a table fed by a view on announces differs from it in row count (run with --repair-views, loader stopped)\n", m)
		}
		fmt.Fprintf(env.stdout, "compared %d ledger members with %d in clickhouse at offsets %v: %d differences\n",
			rep.LedgerUsers, rep.RawUsers, rep.Cut, len(rep.Diffs))
	}
	if len(rep.Diffs) > 0 || len(rep.ViewMonths) > 0 {
		return fmt.Errorf("%d differences between the ledger and clickhouse, %d months of view tables differing from the raw table", len(rep.Diffs), len(rep.ViewMonths))
	}
	return nil
}
