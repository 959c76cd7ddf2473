// Package ingest owns the Kafka consumers of the announces topic: it wires
// the ClickHouse loader (ingest/clickhouse) and the Postgres ledger
// (ingest/ledger) to their consumer groups (ingest/consumer), runs the
// rollup builder (ingest/rollup) beside the loader, and runs them until told
// to stop. Each sink is exactly once on its own; see docs/ARCHITECTURE.md,
// "Ingest: exactly once".
package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/ratioguard/ratioguard/ingest/clickhouse"
	"github.com/ratioguard/ratioguard/ingest/consumer"
	"github.com/ratioguard/ratioguard/ingest/ledger"
	"github.com/ratioguard/ratioguard/ingest/rollup"
	"github.com/ratioguard/ratioguard/internal/chconn"
	"github.com/ratioguard/ratioguard/internal/config"
	"github.com/ratioguard/ratioguard/internal/kafkaconn"
	"github.com/ratioguard/ratioguard/internal/pgconn"
	"github.com/ratioguard/ratioguard/schemas/events"
)

// Sink names.
const (
	SinkClickHouse = "clickhouse"
	SinkLedger     = "ledger"
)

// Config says what to run.
type Config struct {
	Engines config.Engines
	Topic   string   // default events.Topic
	Sinks   []string // SinkClickHouse and/or SinkLedger
	// InstanceID, if set, gives each sink's group member a static identity
	// (InstanceID + "-" + sink): a restart gets its partitions back at once.
	InstanceID string
	// Batches: records per batch and the longest a record waits for its batch.
	ClickHouseBatch, LedgerBatch int
	Linger                       time.Duration
	// Horizon: how long the ledger remembers applied event ids.
	Horizon time.Duration
	// Rollups: with the ClickHouse sink, a rollup builder keeps the hourly
	// rollups equal to the raw table (zero fields: rollup's defaults),
	// unless NoRollups.
	Rollups   rollup.RunConfig
	NoRollups bool
	Log       *slog.Logger
	// AfterStore, if set, sees every stored batch (benchmarks).
	AfterStore func(sink string, b *consumer.Batch, stored time.Time)
	// Monitor, if set, records the consumers' lag, batches, stores and
	// dead letters, and says whether every sink is storing (its Ready).
	Monitor *consumer.Monitor
}

// ParseSinks turns the --sink flag value (clickhouse, ledger or all) into sink names.
func ParseSinks(s string) ([]string, error) {
	switch strings.TrimSpace(s) {
	case "all", "":
		return []string{SinkClickHouse, SinkLedger}, nil
	case SinkClickHouse:
		return []string{SinkClickHouse}, nil
	case SinkLedger:
		return []string{SinkLedger}, nil
	}
	return nil, fmt.Errorf("unknown sink %q: want clickhouse, ledger or all", s)
}

// Run consumes until ctx is canceled. An engine that is down at start is
// waited for (with backoff); one that goes down later pauses its sink.
func Run(ctx context.Context, cfg Config) error {
	if cfg.Topic == "" {
		cfg.Topic = events.Topic
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	brokers := cfg.Engines.Brokers()
	for _, name := range cfg.Sinks {
		cfg.Monitor.Waiting(name, "connecting to Kafka and its engine")
	}
	if err := waitFor(ctx, cfg.Log, "kafka dead-letter topic", func() error {
		return kafkaconn.EnsureTopic(ctx, brokers, cfg.Topic+".dlq", 1)
	}); err != nil {
		return err
	}
	var sinks []consumer.Sink
	var batches []int
	for _, name := range cfg.Sinks {
		s, batch, closeFn, err := openSink(ctx, cfg, name)
		if err != nil {
			return err
		}
		defer closeFn()
		sinks = append(sinks, s)
		batches = append(batches, batch)
	}
	var wg sync.WaitGroup
	errs := make([]error, len(sinks))
	for i, s := range sinks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ccfg := consumer.Config{
				Brokers: brokers, Topic: cfg.Topic, MaxBatch: batches[i], Linger: cfg.Linger, Log: cfg.Log,
				Monitor: cfg.Monitor,
			}
			if cfg.InstanceID != "" {
				ccfg.InstanceID = cfg.InstanceID + "-" + s.Name()
			}
			if cfg.AfterStore != nil {
				ccfg.AfterStore = func(b *consumer.Batch, t time.Time) { cfg.AfterStore(s.Name(), b, t) }
			}
			errs[i] = consumer.Run(ctx, ccfg, s)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// openSink connects the engine of one sink, waiting while it is down.
func openSink(ctx context.Context, cfg Config, name string) (consumer.Sink, int, func(), error) {
	switch name {
	case SinkClickHouse:
		opts, err := chconn.Options(cfg.Engines.ClickHouseURL)
		if err != nil {
			return nil, 0, nil, err
		}
		var conn chconn.Conn
		err = waitFor(ctx, cfg.Log, "clickhouse", func() (err error) {
			conn, err = chconn.Connect(ctx, cfg.Engines.ClickHouseURL)
			return err
		})
		if err != nil {
			return nil, 0, nil, err
		}
		stopRollups := runRollups(ctx, cfg, conn)
		return clickhouse.New(conn, opts.Auth.Database, cfg.Log), orDefault(cfg.ClickHouseBatch, 100_000),
			func() { stopRollups(); conn.Close() }, nil
	case SinkLedger:
		var l *ledger.Ledger
		err := waitFor(ctx, cfg.Log, "postgres", func() error {
			pool, err := pgconn.Connect(ctx, cfg.Engines.PostgresURL)
			if err == nil {
				l = ledger.New(pool, cfg.Horizon, cfg.Log)
			}
			return err
		})
		if err != nil {
			return nil, 0, nil, err
		}
		pruneCtx, stopPrune := context.WithCancel(ctx)
		go prune(pruneCtx, l, cfg.Log)
		return l, orDefault(cfg.LedgerBatch, 20_000), func() { stopPrune(); l.Close() }, nil
	}
	return nil, 0, nil, fmt.Errorf("unknown sink %q", name)
}

// runRollups starts the rollup builder on conn (unless cfg.NoRollups); the
// function it returns stops it and waits until it has dropped its staging
// tables.
func runRollups(ctx context.Context, cfg Config, conn chconn.Conn) (stop func()) {
	if cfg.NoRollups {
		return func() {}
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	cfg.Log.Info("rollup builder running", "every", cfg.Rollups.Every, "window", cfg.Rollups.Window, "full_every", cfg.Rollups.FullEvery)
	go func() {
		defer close(done)
		rollup.New(conn, cfg.Log).Run(rctx, cfg.Rollups)
	}()
	return func() {
		cancel()
		<-done
		cfg.Log.Info("rollup builder stopped")
	}
}

// prune forgets old applied event ids once an hour.
func prune(ctx context.Context, l *ledger.Ledger, log *slog.Logger) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if n, err := l.Prune(ctx); err != nil && ctx.Err() == nil {
			log.Warn("prune ledger event ids", "err", err)
		} else if n > 0 {
			log.Info("pruned ledger event ids", "deleted", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func waitFor(ctx context.Context, log *slog.Logger, what string, fn func() error) error {
	wait := 200 * time.Millisecond
	for {
		err := fn()
		if err == nil {
			return nil
		}
		log.Warn("waiting for "+what, "err", err, "retry_in", wait)
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w (last error: %v)", what, ctx.Err(), err)
		case <-time.After(wait):
		}
		wait = min(2*wait, 10*time.Second)
	}
}

func orDefault(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}
