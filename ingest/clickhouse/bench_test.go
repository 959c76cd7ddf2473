package clickhouse

import (
	"context"
	"fmt"
	"math"
	"net/url"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ratioguard/ratioguard/ingest/consumer"
	"github.com/ratioguard/ratioguard/ingest/ingesttest"
	"github.com/ratioguard/ratioguard/internal/chconn"
	"github.com/ratioguard/ratioguard/internal/testenv"
	"github.com/ratioguard/ratioguard/schemas"
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

	evs := make([]consumer.Event, len(ds.Msgs))
	for i, m := range ds.Msgs {
		a, err := events.Decode(m.Value)
		if err != nil {
			t.Fatal(err)
		}
		evs[i] = consumer.Event{Offset: int64(i), A: a}
	}
	// On a private server: no other test's queries or merges in the
	// figures, and its CPU time (queries + background merges) is measured,
	// which the other load on this shared machine does not inflate.
	srv := testenv.StartClickHouseServer(t)
	// Before: the rollups of migrations 0001-0002 (every distinct count,
	// uniqExact); after: all migrations (0003 drops the unread ones).
	variants := []struct {
		name  string
		last  uint32
		views bool
	}{{"raw table without views", math.MaxUint32, false}, {"BEFORE (0002 views)", 2, true}, {"AFTER (0003 views)", math.MaxUint32, true}}
	t.Logf("events: %d; direct inserts of 50,000 rows from 4 goroutines (one per Kafka partition, as the loader); "+
		"CPU = the private server's user+system time from the first insert until its merges are idle", n)
	for _, sc := range variants {
		ch := schemaUpTo(t, ctx, srv.URL(testenv.UniqueName("rgbench")), sc.last, sc.views)
		wall, cpu := measure(t, ctx, srv, ch, func() { directInsert(t, ctx, ch, evs) })
		t.Logf("baseline clickhouse-go direct insert, %s: %s", sc.name, rate(n, wall, cpu))
	}
	for _, sc := range variants[1:] {
		ch := schemaUpTo(t, ctx, srv.URL(testenv.UniqueName("rgbench")), sc.last, sc.views)
		wall, cpu := measure(t, ctx, srv, ch, func() { loadFromKafka(t, ctx, ch, k, ends, n) })
		t.Logf("loader from kafka (incl. group join), %s: %s", sc.name, rate(n, wall, cpu))
	}
}

func rate(n int, wall, cpu time.Duration) string {
	return fmt.Sprintf("%v = %.0f rows/s; server CPU %v = %.1f µs/row", wall.Round(time.Millisecond),
		float64(n)/wall.Seconds(), cpu.Round(10*time.Millisecond), float64(cpu.Microseconds())/float64(n))
}

// measure runs f and returns its wall time and the server CPU time it
// caused, up to the moment the server's merges are idle.
func measure(t *testing.T, ctx context.Context, srv *testenv.ClickHouseServer, ch testenv.CH, f func()) (wall, cpu time.Duration) {
	t.Helper()
	waitMergesIdle(t, ctx, ch)
	c0, err := srv.CPUTime()
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	f()
	wall = time.Since(t0)
	waitMergesIdle(t, ctx, ch)
	c1, err := srv.CPUTime()
	if err != nil {
		t.Fatal(err)
	}
	return wall, c1 - c0
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

// directInsert inserts evs into ch's `announces` with clickhouse-go, 50,000
// rows per INSERT, from 4 goroutines (the loader's parallelism on 4
// partitions), without Kafka, decoding, dedupe lookup or offsets.
func directInsert(t *testing.T, ctx context.Context, ch testenv.CH, evs []consumer.Event) {
	t.Helper()
	l := New(ch.Conn, ch.Database, nil)
	const workers = 4
	per := (len(evs) + workers - 1) / workers
	var wg sync.WaitGroup
	for w := range workers {
		part := evs[min(w*per, len(evs)):min((w+1)*per, len(evs))]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < len(part); i += 50_000 {
				for j, m := range byMonth(int32(w), part[i:min(i+50_000, len(part))]) {
					if err := l.insert(ctx, "rg-bench-"+strconv.Itoa(w)+"-"+strconv.Itoa(i)+"-"+strconv.Itoa(j), m.rows); err != nil {
						t.Error(err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
}

// loadFromKafka runs the loader over the pre-filled topic until caught up.
func loadFromKafka(t *testing.T, ctx context.Context, ch testenv.CH, k testenv.KafkaTopic, ends map[int32]int64, n int) {
	t.Helper()
	l := New(ch.Conn, ch.Database, nil)
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- consumer.Run(runCtx, consumer.Config{Brokers: k.Brokers, Topic: k.Topic, MaxBatch: 50_000,
			Linger: time.Second}, l)
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
}

// schemaUpTo creates the database at rawURL with the ClickHouse migrations
// up to version last only (an earlier schema, for before/after figures),
// without the materialized views unless views.
func schemaUpTo(t *testing.T, ctx context.Context, rawURL string, last uint32, views bool) testenv.CH {
	t.Helper()
	base, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	name := base.Path[1:]
	conn, err := chconn.EnsureDatabase(ctx, rawURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = chconn.DropDatabase(context.Background(), conn, name)
		conn.Close()
	})
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
			if err := conn.Exec(ctx, "DROP TABLE "+v); err != nil {
				t.Fatal(err)
			}
		}
	}
	return testenv.CH{Conn: conn, URL: rawURL, Database: name}
}
