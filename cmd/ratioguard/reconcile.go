package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/ratioguard/ratioguard/ingest/clickhouse"
	"github.com/ratioguard/ratioguard/ingest/reconcile"
	"github.com/ratioguard/ratioguard/ingest/rollup"
	"github.com/ratioguard/ratioguard/internal/config"
	"github.com/ratioguard/ratioguard/schemas/events"
)

func runReconcile(ctx context.Context, env *cliEnv, args []string) error {
	eng := config.FromEnv()
	fs := newFlagSet(env, "reconcile")
	eng.RegisterFlags(fs)
	topic := fs.String("topic", events.Topic, "Kafka topic both sinks consume")
	wait := fs.Duration("wait", 30*time.Second, "how long to wait for the ClickHouse loader to reach the ledger's offsets")
	rollups := fs.Bool("rollups", true, "also compare the user_hour rollup and announce_ids with the raw table")
	refresh := fs.Bool("refresh-rollups", true, "with --rollups, first rebuild the rollup hours that lag behind the raw table "+
		"(as the ingest's builder does; safe while it runs); either way, hours still lagging are listed apart, not as differences")
	repair := fs.Bool("repair-views", false, "first rebuild, from the raw table, announce_ids (the one view table) "+
		"in every month whose row count differs from it; stop the ClickHouse loader first (it re-derives missing ids itself on restart)")
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
	rep, err := reconcile.Run(ctx, pg, ch, reconcile.Options{Topic: *topic, Wait: *wait, Rollups: *rollups, RefreshRollups: *refresh})
	if err != nil {
		return err
	}
	if *asJSON {
		if rep.Diffs == nil {
			rep.Diffs = []reconcile.Diff{}
		}
		if rep.RollupLag == nil {
			rep.RollupLag = []rollup.Hour{}
		}
		if rep.ViewMonths == nil {
			rep.ViewMonths = []uint32{}
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
			fmt.Fprintf(env.stdout, "views month %d: announce_ids differs from announces in row count (run with --repair-views, loader stopped)\n", m)
		}
		if rep.RollupsRebuilt > 0 {
			fmt.Fprintf(env.stdout, "rollups: rebuilt %d lagging (hour, rollup) pairs before comparing\n", rep.RollupsRebuilt)
		}
		if len(rep.RollupLag) > 0 {
			fmt.Fprintf(env.stdout, "rollups: %d hours not built yet (lag, left out of the comparison), from %s to %s\n", len(rep.RollupLag),
				rep.RollupLag[0].Hour.Format(time.RFC3339), rep.RollupLag[len(rep.RollupLag)-1].Hour.Format(time.RFC3339))
		}
		fmt.Fprintf(env.stdout, "compared %d ledger members with %d in clickhouse at offsets %v: %d differences\n",
			rep.LedgerUsers, rep.RawUsers, rep.Cut, len(rep.Diffs))
	}
	if len(rep.Diffs) > 0 || len(rep.ViewMonths) > 0 {
		return fmt.Errorf("%d differences between the ledger and clickhouse, %d months of view tables differing from the raw table", len(rep.Diffs), len(rep.ViewMonths))
	}
	return nil
}
