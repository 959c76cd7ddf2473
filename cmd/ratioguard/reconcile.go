package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/ratioguard/ratioguard/ingest/reconcile"
	"github.com/ratioguard/ratioguard/internal/chconn"
	"github.com/ratioguard/ratioguard/internal/config"
	"github.com/ratioguard/ratioguard/internal/pgconn"
	"github.com/ratioguard/ratioguard/schemas/events"
)

func runReconcile(ctx context.Context, env *cliEnv, args []string) error {
	eng := config.FromEnv()
	fs := newFlagSet(env, "reconcile")
	eng.RegisterFlags(fs)
	topic := fs.String("topic", events.Topic, "Kafka topic both sinks consume")
	wait := fs.Duration("wait", 30*time.Second, "how long to wait for the ClickHouse loader to reach the ledger's offsets")
	rollups := fs.Bool("rollups", true, "also compare the user_hour rollup with the raw table")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	pg, err := pgconn.Connect(ctx, eng.PostgresURL)
	if err != nil {
		return err
	}
	defer pg.Close()
	ch, err := chconn.Connect(ctx, eng.ClickHouseURL)
	if err != nil {
		return err
	}
	defer ch.Close()
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
		fmt.Fprintf(env.stdout, "compared %d ledger members with %d in clickhouse at offsets %v: %d differences\n",
			rep.LedgerUsers, rep.RawUsers, rep.Cut, len(rep.Diffs))
	}
	if len(rep.Diffs) > 0 {
		return fmt.Errorf("%d differences between the ledger and clickhouse", len(rep.Diffs))
	}
	return nil
}
