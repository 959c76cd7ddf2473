package ingest_test

import (
	"bytes"
	"context"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/ratioguard/ratioguard/ingest"
	"github.com/ratioguard/ratioguard/ingest/clickhouse"
	"github.com/ratioguard/ratioguard/ingest/ingesttest"
	"github.com/ratioguard/ratioguard/internal/kafkaconn"
	"github.com/ratioguard/ratioguard/internal/testenv"
)

// restartSize is the CI size; RG_LONG=1 runs 1M events and six restarts.
func restartSize() (events, restarts int) {
	if os.Getenv("RG_LONG") == "1" {
		return 1_000_000, 6
	}
	return 60_000, 2
}

// TestIngestSurvivesKafkaRestarts, ...ClickHouseRestarts and
// ...PostgresRestarts restart one engine (a private instance on its own
// ports; the other two are the shared ones) while the stream is produced
// and consumed by both sinks: alternately SIGKILL (a crash) and a clean
// stop, each followed by a start on the same data. Afterwards every table
// equals the truth exactly and reconcile finds nothing.
func TestIngestSurvivesKafkaRestarts(t *testing.T) {
	b := testenv.StartKafkaBroker(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	k := testenv.KafkaTopic{Brokers: []string{b.Addr}, Topic: testenv.UniqueName("rgrestart")}
	if err := kafkaconn.EnsureTopic(ctx, k.Brokers, k.Topic, 4); err != nil {
		t.Fatal(err)
	}
	runRestarts(t, stack{pg: testenv.Postgres(t), ch: testenv.ClickHouse(t), kafka: k}, b, nil)
}

func TestIngestSurvivesClickHouseRestarts(t *testing.T) {
	srv := testenv.StartClickHouseServer(t)
	s := stack{pg: testenv.Postgres(t), ch: testenv.ClickHouseAt(t, srv.URL("default")), kafka: testenv.Kafka(t, 4)}
	runRestarts(t, s, srv, func(ctx context.Context) bool { return insertRunning(ctx, s) })
}

func TestIngestSurvivesPostgresRestarts(t *testing.T) {
	srv := testenv.StartPostgresServer(t)
	runRestarts(t, stack{pg: testenv.PostgresAt(t, srv.URL("postgres")), ch: testenv.ClickHouse(t), kafka: testenv.Kafka(t, 4)}, srv, nil)
}

// runRestarts produces and ingests the data set while eng restarts. busy,
// if set, tells when the engine is in the middle of a write: a SIGKILL
// waits (up to 5 s) for such a moment.
//
// A ClickHouse crash between the raw part and the announce_ids part of an
// INSERT leaves raw rows without ids; the loader re-derives them before it
// stores the partition again (see docs/ARCHITECTURE.md), so afterwards no
// month may differ, whatever the engine. The rollups are the builder's: the
// check refreshes them and requires exact equality.
func runRestarts(t *testing.T, s stack, eng testenv.Engine, busy func(context.Context) bool) {
	n, restarts := restartSize()
	if v, err := strconv.Atoi(os.Getenv("RG_RESTARTS")); err == nil && v > 0 {
		restarts = v
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	seed := uint64(time.Now().UnixNano())
	t.Logf("data set seed %d", seed)
	ds := ingesttest.NewDataset(seed, n, 2000, 1000, 13, 20)
	if err := ingesttest.SeedPostgres(ctx, s.pg.Pool, 2000, 1000); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(t.TempDir(), "ingest.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()

	runCtx, stopIngest := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- ingest.Run(runCtx, ingest.Config{Engines: s.engines(), Topic: s.kafka.Topic,
			Sinks: []string{ingest.SinkClickHouse, ingest.SinkLedger}, ClickHouseBatch: 5000, LedgerBatch: 3000,
			Linger: 200 * time.Millisecond, Log: slog.New(slog.NewTextHandler(logFile, nil))})
	}()
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			stopIngest()
			if err := <-done; err != nil {
				t.Errorf("ingest.Run: %v", err)
			}
		}
	}
	defer stop()

	// Produce in chunks spread over the restarts (the producer retries while
	// a restarted broker is down).
	produced := make(chan error, 1)
	go func() {
		const chunks = 40
		size := (len(ds.Msgs) + chunks - 1) / chunks
		pause := time.Duration(restarts) * 3 * time.Second / chunks
		for i := 0; i < len(ds.Msgs); i += size {
			if err := ingesttest.Produce(ctx, s.kafka.Brokers, s.kafka.Topic, ds.Msgs[i:min(i+size, len(ds.Msgs))]); err != nil {
				produced <- err
				return
			}
			time.Sleep(pause)
		}
		produced <- nil
	}()

	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 5))
	last := int64(0)
	for r := 0; r < restarts; r++ {
		time.Sleep(time.Duration(500+rng.IntN(1500)) * time.Millisecond)
		// Mid-stream: both sinks have stored more since the last restart
		// (a restarted broker first has to elect leaders and rejoin the groups).
		stored := storedTotal(ctx, t, s)
		for deadline := time.Now().Add(90 * time.Second); stored <= last && time.Now().Before(deadline); {
			time.Sleep(100 * time.Millisecond)
			stored = storedTotal(ctx, t, s)
		}
		if stored <= last || stored >= int64(len(ds.Msgs)) {
			t.Fatalf("restart %d not mid-stream: the slower sink stored %d of %d messages (%d at the last restart)", r+1, stored, len(ds.Msgs), last)
		}
		last = stored
		if r%2 == 0 && busy != nil {
			for deadline := time.Now().Add(5 * time.Second); !busy(ctx) && time.Now().Before(deadline); {
				time.Sleep(5 * time.Millisecond)
			}
		}
		t0 := time.Now()
		testenv.Restart(eng, r%2 == 0, time.Duration(300+rng.IntN(1500))*time.Millisecond)
		t.Logf("restart %d (%s) with %d messages stored by the slower sink: down for %v", r+1,
			map[bool]string{true: "SIGKILL", false: "clean stop"}[r%2 == 0], stored, time.Since(t0).Round(time.Millisecond))
	}
	if err := <-produced; err != nil {
		t.Fatal(err)
	}
	ends, err := ingesttest.EndOffsets(ctx, s.kafka.Brokers, s.kafka.Topic)
	if err != nil {
		t.Fatal(err)
	}
	if err := ingesttest.WaitCaughtUp(ctx, ends, chOffsets(s.ch.Conn, s.kafka.Topic), ledgerOffsets(s.pg.Pool, s.kafka.Topic)); err != nil {
		dumpLogs(t, []string{logPath})
		t.Fatal(err)
	}
	t.Logf("%d messages: %d events, %d duplicates, %d garbage; %d restarts", len(ds.Msgs), ds.Truth.Events, ds.Dups, ds.Truth.Garbage, restarts)
	stop()
	if months, err := clickhouse.SuspectMonths(ctx, s.ch.Conn); err != nil {
		t.Fatal(err)
	} else if len(months) > 0 {
		t.Errorf("announce_ids differs from the raw table in months %v after the loader caught up", months)
	}
	failed := false
	if err := ingesttest.CheckClickHouse(ctx, s.ch.Conn, ds.Truth); err != nil {
		t.Error(err)
		failed = true
	}
	if err := ingesttest.CheckLedger(ctx, s.pg.Pool, ds.Truth); err != nil {
		t.Error(err)
		failed = true
	}
	checkReconcile(t, ctx, s)
	logged, _ := os.ReadFile(logPath)
	warnings := bytes.Count(logged, []byte("level=WARN"))
	t.Logf("the ingest logged %d warnings (retries, fetch errors); it re-derived lost event ids %d times", warnings,
		bytes.Count(logged, []byte("re-derived event ids")))
	if warnings == 0 {
		t.Error("the ingest never noticed an engine going away")
	}
	if failed || t.Failed() {
		dumpLogs(t, []string{logPath})
	}
}

// storedTotal is the number of messages the slower sink has stored.
func storedTotal(ctx context.Context, t *testing.T, s stack) int64 {
	t.Helper()
	total := func(o ingesttest.Offsets) int64 {
		m, err := o(ctx)
		for try := 0; err != nil && try < 50; try++ { // a pooled connection to a restarted engine fails once
			time.Sleep(100 * time.Millisecond)
			m, err = o(ctx)
		}
		if err != nil {
			t.Fatalf("read stored offsets: %v", err)
		}
		var n int64
		for _, v := range m {
			n += v
		}
		return n
	}
	return min(total(chOffsets(s.ch.Conn, s.kafka.Topic)), total(ledgerOffsets(s.pg.Pool, s.kafka.Topic)))
}

// insertRunning: an INSERT into announces is running on the server.
func insertRunning(ctx context.Context, s stack) bool {
	var n uint64
	err := s.ch.Conn.QueryRow(ctx, "SELECT count() FROM system.processes WHERE query LIKE 'INSERT INTO announces%'").Scan(&n)
	return err == nil && n > 0
}
