package clickhouse

import (
	"context"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ratioguard/ratioguard/ingest/consumer"
	"github.com/ratioguard/ratioguard/ingest/ingesttest"
	"github.com/ratioguard/ratioguard/internal/testenv"
	"github.com/ratioguard/ratioguard/schemas/events"
)

// benchEvents is the size of the throughput runs (RG_BENCH_EVENTS overrides).
func benchEvents() int {
	if n, err := strconv.Atoi(os.Getenv("RG_BENCH_EVENTS")); err == nil && n > 0 {
		return n
	}
	return 1_000_000
}

// TestLoaderThroughput (RG_BENCH=1) measures the loader reading a pre-filled
// topic from the real Kafka into ClickHouse, and in the same run the
// baseline: clickhouse-go inserting the same rows directly in batches of the
// same size (no Kafka, no decoding, no dedupe lookup, no offsets).
func TestLoaderThroughput(t *testing.T) {
	if os.Getenv("RG_BENCH") != "1" {
		t.Skip("set RG_BENCH=1 to measure (figures go to docs/BENCHMARKS.md)")
	}
	n := benchEvents()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	ds := ingesttest.NewDataset(5, n, 50_000, 20_000, 0, 0)
	k := testenv.Kafka(t, 4)
	if err := ingesttest.Produce(ctx, k.Brokers, k.Topic, ds.Msgs); err != nil {
		t.Fatal(err)
	}
	ends, err := ingesttest.EndOffsets(ctx, k.Brokers, k.Topic)
	if err != nil {
		t.Fatal(err)
	}

	// Baseline: the same rows, decoded beforehand, inserted directly.
	base := testenv.ClickHouse(t)
	evs := make([]consumer.Event, len(ds.Msgs))
	for i, m := range ds.Msgs {
		a, err := events.Decode(m.Value)
		if err != nil {
			t.Fatal(err)
		}
		evs[i] = consumer.Event{Offset: int64(i), A: a}
	}
	bl := New(base.Conn, base.Database, nil)
	t0 := time.Now()
	for i := 0; i < len(evs); i += 50_000 {
		for j, m := range byMonth(0, evs[i:min(i+50_000, len(evs))]) {
			if err := bl.insert(ctx, "rg-bench-"+strconv.Itoa(i)+"-"+strconv.Itoa(j), m.rows); err != nil {
				t.Fatal(err)
			}
		}
	}
	baseline := time.Since(t0)

	// The same direct insert into a copy of `announces` without the views:
	// what the raw table alone costs on this machine.
	if err := base.Conn.Exec(ctx, "CREATE TABLE announces_plain AS announces"); err != nil {
		t.Fatal(err)
	}
	plainSQL := strings.Replace(insertAnnouncesSQL, "INSERT INTO announces (", "INSERT INTO announces_plain (", 1)
	t0 = time.Now()
	for i := 0; i < len(evs); i += 50_000 {
		for _, m := range byMonth(0, evs[i:min(i+50_000, len(evs))]) {
			b, err := base.Conn.PrepareBatch(ctx, plainSQL)
			if err != nil {
				t.Fatal(err)
			}
			if err := m.rows.appendTo(b); err != nil {
				t.Fatal(err)
			}
			if err := b.Send(); err != nil {
				t.Fatal(err)
			}
		}
	}
	plain := time.Since(t0)

	// The loader from Kafka.
	ch := testenv.ClickHouse(t)
	l := New(ch.Conn, ch.Database, nil)
	var stored atomic.Int64
	var first atomic.Int64
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	t1 := time.Now()
	go func() {
		done <- consumer.Run(runCtx, consumer.Config{Brokers: k.Brokers, Topic: k.Topic, MaxBatch: 50_000,
			Linger: time.Second, AfterStore: func(b *consumer.Batch, _ time.Time) {
				first.CompareAndSwap(0, b.First.UnixNano())
				stored.Add(int64(len(b.Events)))
			}}, l)
	}()
	err = ingesttest.WaitCaughtUp(ctx, ends, func(ctx context.Context) (map[int32]int64, error) {
		return StoredOffsets(ctx, ch.Conn, k.Topic)
	})
	total := time.Since(t1)
	fromFirst := time.Since(time.Unix(0, first.Load()))
	stop()
	<-done
	if err != nil {
		t.Fatal(err)
	}
	var rows uint64
	if err := ch.Conn.QueryRow(ctx, "SELECT count() FROM announces").Scan(&rows); err != nil || rows != uint64(n) {
		t.Fatalf("loaded %d rows (%v), want %d", rows, err, n)
	}
	t.Logf("events: %d", n)
	t.Logf("baseline clickhouse-go direct insert (raw table + its views): %v = %.0f rows/s", baseline.Round(time.Millisecond), float64(n)/baseline.Seconds())
	t.Logf("baseline clickhouse-go direct insert (raw table, no views): %v = %.0f rows/s", plain.Round(time.Millisecond), float64(n)/plain.Seconds())
	t.Logf("loader from kafka (incl. group join): %v = %.0f events/s", total.Round(time.Millisecond), float64(n)/total.Seconds())
	t.Logf("loader from kafka (first record read to caught up): %v = %.0f events/s", fromFirst.Round(time.Millisecond), float64(n)/fromFirst.Seconds())
}
