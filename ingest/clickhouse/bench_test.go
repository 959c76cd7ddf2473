package clickhouse

import (
	"context"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ratioguard/ratioguard/ingest/consumer"
	"github.com/ratioguard/ratioguard/ingest/ingesttest"
	"github.com/ratioguard/ratioguard/internal/testenv"
	"github.com/ratioguard/ratioguard/schemas"
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

	direct := directBatches(t, ds.Msgs)
	// On a private server: no other test's queries or merges in the
	// figures, and its CPU time (queries + background merges) is measured,
	// which the other load on this shared machine does not inflate.
	srv := testenv.StartClickHouseServer(t)
	// The schema's history: the rollups of migrations 0001-0002 (every
	// distinct count, uniqExact), 0003 (the unread ones dropped), 0004 (the
	// rollups off the insert path: only the announce_ids view is left).
	// RG_BENCH_VARIANTS (comma-separated substrings of the names) picks some.
	type variant struct {
		name  string
		last  uint32
		views bool
	}
	variants := []variant{{"raw table without views", math.MaxUint32, false}, {"0002 views", 2, true}, {"0003 views", 3, true},
		{"0004 (announce_ids view only)", math.MaxUint32, true}}
	if pick := os.Getenv("RG_BENCH_VARIANTS"); pick != "" {
		variants = slices.DeleteFunc(variants, func(v variant) bool {
			return !slices.ContainsFunc(strings.Split(pick, ","), func(p string) bool { return strings.Contains(v.name, p) })
		})
	}
	t.Logf("events: %d; loader batches and direct inserts of %d rows, from 4 goroutines (one per Kafka partition, as the loader); "+
		"CPU = the private server's user+system time from the first insert until its merges are idle", n, benchBatch())
	for _, sc := range variants {
		ch := schemaUpTo(t, ctx, srv.URL(testenv.UniqueName("rgbench")), sc.last, sc.views)
		wall, cpu, client := measure(t, ctx, srv, ch, func() { directInsert(t, ctx, ch, direct) })
		t.Logf("baseline clickhouse-go direct insert, %s: %s", sc.name, rate(n, wall, cpu, client))
	}
	for _, sc := range variants {
		if !sc.views {
			continue
		}
		ch := schemaUpTo(t, ctx, srv.URL(testenv.UniqueName("rgbench")), sc.last, sc.views)
		wall, cpu, client := measure(t, ctx, srv, ch, func() { loadFromKafka(t, ctx, ch, k, ends, n) })
		t.Logf("loader from kafka (incl. group join), %s: %s", sc.name, rate(n, wall, cpu, client))
	}
}

func rate(n int, wall, cpu, client time.Duration) string {
	return fmt.Sprintf("%v = %.0f rows/s; server CPU %v = %.1f µs/row; client (this process) CPU %v = %.2f µs/row",
		wall.Round(time.Millisecond), float64(n)/wall.Seconds(), cpu.Round(10*time.Millisecond),
		float64(cpu.Microseconds())/float64(n), client.Round(10*time.Millisecond), float64(client.Microseconds())/float64(n))
}

// processCPU is this process's user+system CPU time so far.
func processCPU(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// measure runs f and returns its wall time, the server CPU time it caused
// (up to the moment the server's merges are idle) and this process's CPU
// time while f ran (the Go side: Kafka client, decoding, columns,
// clickhouse-go, GC; independent of the other load on the machine).
func measure(t *testing.T, ctx context.Context, srv *testenv.ClickHouseServer, ch testenv.CH, f func()) (wall, cpu, client time.Duration) {
	t.Helper()
	waitMergesIdle(t, ctx, ch)
	c0, err := srv.CPUTime()
	if err != nil {
		t.Fatal(err)
	}
	t0, p0 := time.Now(), processCPU(t)
	f()
	wall, client = time.Since(t0), processCPU(t)-p0
	waitMergesIdle(t, ctx, ch)
	c1, err := srv.CPUTime()
	if err != nil {
		t.Fatal(err)
	}
	return wall, c1 - c0, client
}

// waitMergesIdle waits until the server has run no merge for a second.
func waitMergesIdle(t *testing.T, ctx context.Context, ch testenv.CH) {
	t.Helper()
	idle := 0
	for deadline := time.Now().Add(3 * time.Minute); idle < 5 && time.Now().Before(deadline); {
		var n uint64
		if err := ch.Conn.QueryRow(ctx, "SELECT count() FROM system.merges").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			idle++
		} else {
			idle = 0
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// directInsert inserts the batches into ch's `announces` with clickhouse-go,
// one INSERT per batch, from one goroutine per worker (the loader's
// parallelism on 4 partitions), without Kafka, decoding, dedupe lookup or
// offsets.
func directInsert(t *testing.T, ctx context.Context, ch testenv.CH, workers [][]*rows) {
	t.Helper()
	l := New(ch.Conn, ch.Database, nil)
	var wg sync.WaitGroup
	for w, batches := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i, r := range batches {
				if err := l.insert(ctx, "rg-bench-"+strconv.Itoa(w)+"-"+strconv.Itoa(i), r); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// benchBatch is the batch size of the loader and of the direct inserts:
// the ingest's default (--clickhouse-batch), or RG_BENCH_BATCH.
func benchBatch() int {
	if v, err := strconv.Atoi(os.Getenv("RG_BENCH_BATCH")); err == nil && v > 0 {
		return v
	}
	return 100_000
}

// directBatches decodes the messages into batches of benchBatch() rows per
// month for 4 workers, as the loader would cut them.
func directBatches(t *testing.T, msgs []ingesttest.Msg) [][]*rows {
	const workers = 4
	batch := benchBatch()
	per := (len(msgs) + workers - 1) / workers
	out := make([][]*rows, workers)
	for w := range workers {
		part := msgs[min(w*per, len(msgs)):min((w+1)*per, len(msgs))]
		for i := 0; i < len(part); i += batch {
			d := newDecoded(int32(w))
			for j, m := range part[i:min(i+batch, len(part))] {
				if err := d.Add(int64(i+j), m.Value); err != nil {
					t.Fatal(err)
				}
			}
			d.uniq()
			for _, m := range d.byMonth(d.keep) {
				r := newRows()
				r.gather(m.rows, identity(m.rows.len()))
				out[w] = append(out[w], r)
			}
		}
	}
	return out
}

func identity(n int) []int32 {
	idx := make([]int32, n)
	for i := range idx {
		idx[i] = int32(i)
	}
	return idx
}

// loadFromKafka runs the loader over the pre-filled topic until caught up.
// Besides the caller's total (group join, the first batches' fill and the
// last, partial batches, which wait out the 1 s linger, included), it
// reports the sustained rate: the events of the full batches stored after
// the first store, over the time from the first store to the last full one.
func loadFromKafka(t *testing.T, ctx context.Context, ch testenv.CH, k testenv.KafkaTopic, ends map[int32]int64, n int) {
	t.Helper()
	maxBatch := benchBatch()
	l := New(ch.Conn, ch.Database, nil)
	var mu sync.Mutex
	var first, last time.Time
	full := 0
	afterStore := func(b *consumer.Batch, at time.Time) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case first.IsZero():
			first = at
		case b.Len() >= maxBatch:
			full += b.Len()
			last = at
		}
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- consumer.Run(runCtx, consumer.Config{Brokers: k.Brokers, Topic: k.Topic, MaxBatch: maxBatch,
			Linger: time.Second, AfterStore: afterStore}, l)
	}()
	err := ingesttest.WaitCaughtUp(ctx, ends, func(ctx context.Context) (map[int32]int64, error) {
		return StoredOffsets(ctx, ch.Conn, k.Topic)
	})
	stop()
	<-done
	if err != nil {
		t.Fatal(err)
	}
	var rows uint64
	if err := ch.Conn.QueryRow(ctx, "SELECT count() FROM announces").Scan(&rows); err != nil || rows != uint64(n) {
		t.Fatalf("loaded %d rows (%v), want %d", rows, err, n)
	}
	if span := last.Sub(first); span > 0 {
		t.Logf("sustained: %d events in full batches in %v after the first store = %.0f events/s",
			full, span.Round(time.Millisecond), float64(full)/span.Seconds())
	}
}

// schemaUpTo creates the database at rawURL with the ClickHouse migrations
// up to version last only (an earlier schema, for before/after figures),
// without the materialized views unless views.
func schemaUpTo(t *testing.T, ctx context.Context, rawURL string, last uint32, views bool) testenv.CH {
	t.Helper()
	ch := testenv.EmptyClickHouseAt(t, rawURL)
	conn := ch.Conn
	files, err := schemas.ClickHouseMigrations()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		for _, stmt := range f.Statements {
			if f.Version <= last {
				if err := conn.Exec(ctx, stmt); err != nil {
					t.Fatalf("%s: %v", f.Name, err)
				}
			}
		}
	}
	if !views {
		for _, v := range []string{"announces_by_torrent_mv", "announce_ids_mv", "user_hour_mv", "torrent_hour_mv", "user_network_hour_mv"} {
			if err := conn.Exec(ctx, "DROP TABLE IF EXISTS "+v); err != nil {
				t.Fatal(err)
			}
		}
	}
	return ch
}
