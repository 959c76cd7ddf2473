package main

import (
	"context"
	"time"

	"github.com/ratioguard/ratioguard/ingest"
	"github.com/ratioguard/ratioguard/ingest/consumer"
	"github.com/ratioguard/ratioguard/ingest/rollup"
	"github.com/ratioguard/ratioguard/internal/config"
	"github.com/ratioguard/ratioguard/schemas/events"
)

func runIngest(ctx context.Context, env *cliEnv, args []string) error {
	eng := config.FromEnv()
	fs := newFlagSet(env, "ingest")
	eng.RegisterFlags(fs)
	sink := fs.String("sink", "all", "which sink to run: clickhouse, ledger or all")
	topic := fs.String("topic", events.Topic, "Kafka topic of announce events")
	instance := fs.String("instance-id", "", "static consumer-group identity of this process (restarts keep their partitions); empty: dynamic")
	chBatch := fs.Int("clickhouse-batch", 100_000, "max events per ClickHouse insert batch (bigger inserts: fewer parts for ClickHouse to merge)")
	ledgerBatch := fs.Int("ledger-batch", 20_000, "max events per ledger transaction")
	linger := fs.Duration("linger", time.Second, "max time an event waits for its batch")
	horizon := fs.Duration("dedupe-horizon", 30*24*time.Hour, "how long the ledger remembers applied event ids; older events are parked")
	rollups := fs.Bool("rollups", true, "with the clickhouse sink, rebuild the hourly rollups from the raw table (any number of ingest processes may; one is enough)")
	rollupEvery := fs.Duration("rollup-every", 15*time.Second, "how often the rollups of recent hours are brought up to date (their lag)")
	rollupWindow := fs.Duration("rollup-window", 6*time.Hour, "recent hours: from the latest hour with data minus this")
	rollupFull := fs.Duration("rollup-full-every", 10*time.Minute, "how often every hour is checked (late events, spool replays)")
	adminAddr := adminFlag(fs, defaultIngestAdmin)
	if err := fs.Parse(args); err != nil {
		return err
	}
	sinks, err := ingest.ParseSinks(*sink)
	if err != nil {
		return usageError{err.Error()}
	}
	adm, stopAdmin, err := startAdmin(ctx, env, fs, "ingest", *adminAddr)
	if err != nil {
		return err
	}
	defer stopAdmin()
	mon, err := consumer.NewMonitor(adm.Registry())
	if err != nil {
		return err
	}
	adm.Check("ingest", func(context.Context) error { return mon.Ready() })
	rollupMetrics, err := rollup.NewMetrics(adm.Registry())
	if err != nil {
		return err
	}
	return ingest.Run(ctx, ingest.Config{
		Engines: eng, Topic: *topic, Sinks: sinks, InstanceID: *instance,
		ClickHouseBatch: *chBatch, LedgerBatch: *ledgerBatch, Linger: *linger, Horizon: *horizon,
		Rollups:   rollup.RunConfig{Every: *rollupEvery, Window: *rollupWindow, FullEvery: *rollupFull, Metrics: rollupMetrics},
		NoRollups: !*rollups,
		Log:       env.log,
		Monitor:   mon,
	})
}
