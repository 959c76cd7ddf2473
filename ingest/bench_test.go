package ingest_test

import (
	"context"
	"os"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ratioguard/ratioguard/ingest"
	"github.com/ratioguard/ratioguard/ingest/consumer"
	"github.com/ratioguard/ratioguard/ingest/ingesttest"
	"github.com/ratioguard/ratioguard/internal/chconn"
	"github.com/ratioguard/ratioguard/schemas/events"
)

func benchOn(t *testing.T) {
	if os.Getenv("RG_BENCH") != "1" {
		t.Skip("set RG_BENCH=1 to measure (figures go to docs/BENCHMARKS.md)")
	}
}

// TestLedgerThroughput (RG_BENCH=1): the ledger applying a pre-filled topic
// (RG_BENCH_EVENTS, default 500k) from the real Kafka.
func TestLedgerThroughput(t *testing.T) {
	benchOn(t)
	n := 500_000
	if v, err := strconv.Atoi(os.Getenv("RG_BENCH_EVENTS")); err == nil && v > 0 {
		n = v
	}
	s := newStack(t, 4)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	ds := ingesttest.NewDataset(6, n, 20_000, 10_000, 0, 0)
	ends := s.prefill(t, ctx, ds, 20_000, 10_000)
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	t0 := time.Now()
	go func() {
		done <- ingest.Run(runCtx, ingest.Config{Engines: s.engines(), Topic: s.kafka.Topic,
			Sinks: []string{ingest.SinkLedger}, LedgerBatch: 20_000, Log: testLog()})
	}()
	err := ingesttest.WaitCaughtUp(ctx, ends, ledgerOffsets(s.pg.Pool, s.kafka.Topic))
	elapsed := time.Since(t0)
	stop()
	<-done
	if err != nil {
		t.Fatal(err)
	}
	if err := ingesttest.CheckLedger(ctx, s.pg.Pool, ds.Truth); err != nil {
		t.Fatal(err)
	}
	t.Logf("ledger: %d events in %v = %.0f events/s (incl. group join)", n, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds())
}

// TestQueryableLatency (RG_BENCH=1): announces produced at 20,000/s for
// RG_BENCH_SECONDS (default 30) while the ClickHouse loader runs with its
// default batching and the rollup builder with its default interval;
// latency = insert acknowledged (rows queryable) minus the event's time,
// stamped just before it is produced. Also the rollups' lag: user_hour's
// count is polled every 200 ms, and a tick's events count as rolled up at
// the first poll that counts as many events as were produced up to that
// tick (approximate: events taken in production order). The baseline, in
// the same run: the same without the rollup builder.
func TestQueryableLatency(t *testing.T) {
	benchOn(t)
	secs := 30
	if v, err := strconv.Atoi(os.Getenv("RG_BENCH_SECONDS")); err == nil && v > 0 {
		secs = v
	}
	t.Run("with-builder", func(t *testing.T) { measureLatency(t, secs, true) })
	t.Run("without-builder", func(t *testing.T) { measureLatency(t, secs, false) })
}

func measureLatency(t *testing.T, secs int, rollups bool) {
	const rate = 20_000
	s := newStack(t, 4)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var mu sync.Mutex
	var lat []time.Duration
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- ingest.Run(runCtx, ingest.Config{Engines: s.engines(), Topic: s.kafka.Topic,
			Sinks: []string{ingest.SinkClickHouse}, Log: testLog(), NoRollups: !rollups,
			AfterStore: func(_ string, b *consumer.Batch, at time.Time) {
				mu.Lock()
				b.EventTimes(func(ns int64) { lat = append(lat, at.Sub(time.Unix(0, ns))) })
				mu.Unlock()
			}})
	}()
	g := ingesttest.NewGen(9, 20_000, 10_000, time.Now())
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var produced []countMark
	rolled := make(chan []countMark, 1)
	pollCtx, stopPoll := context.WithCancel(ctx)
	go func() { rolled <- pollRollups(pollCtx, s.ch.Conn) }()
	sent := 0
	start := time.Now()
	for time.Since(start) < time.Duration(secs)*time.Second {
		<-tick.C
		want := int(time.Since(start).Seconds()*rate) - sent
		msgs := make([]ingesttest.Msg, 0, want)
		now := time.Now().UnixNano()
		for i := 0; i < want; i++ {
			a := g.Next()
			a.TimeUnixNano = now
			v, err := events.Encode(a)
			if err != nil {
				t.Fatal(err)
			}
			msgs = append(msgs, ingesttest.Msg{Key: []byte(strconv.FormatUint(a.GetUserId(), 10)), Value: v})
		}
		if err := ingesttest.Produce(ctx, s.kafka.Brokers, s.kafka.Topic, msgs); err != nil {
			t.Fatal(err)
		}
		sent += want
		produced = append(produced, countMark{uint64(sent), time.Unix(0, now)})
	}
	produceTime := time.Since(start)
	ends, err := ingesttest.EndOffsets(ctx, s.kafka.Brokers, s.kafka.Topic)
	if err != nil {
		t.Fatal(err)
	}
	err = ingesttest.WaitCaughtUp(ctx, ends, chOffsets(s.ch.Conn, s.kafka.Topic))
	if err == nil && rollups {
		err = waitRollups(ctx, s.ch.Conn)
	}
	time.Sleep(300 * time.Millisecond) // one more poll
	stopPoll()
	samples := <-rolled
	stop()
	<-done
	if err != nil {
		t.Fatal(err)
	}
	if len(lat) < sent {
		t.Fatalf("latencies of %d events, %d produced", len(lat), sent)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	q := func(p float64) time.Duration { return lat[int(p*float64(len(lat)-1))].Round(time.Millisecond) }
	t.Logf("produced %d events in %v (%.0f/s); latency announce->queryable p50 %v p90 %v p99 %v max %v",
		sent, produceTime.Round(time.Millisecond), float64(sent)/produceTime.Seconds(), q(0.5), q(0.9), q(0.99), q(1))
	if !rollups {
		return
	}
	if len(samples) == 0 {
		t.Fatal("user_hour was never polled")
	}
	lat = lat[:0]
	prev, j := uint64(0), 0
	for _, p := range produced {
		for j < len(samples) && samples[j].n < p.n {
			j++
		}
		if j == len(samples) {
			t.Fatalf("user_hour never counted %d events (last poll: %+v)", p.n, samples[len(samples)-1])
		}
		for k := prev; k < p.n; k++ {
			lat = append(lat, samples[j].at.Sub(p.at))
		}
		prev = p.n
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	t.Logf("rollup lag announce->in user_hour (builder every 15 s, approximate): p50 %v p90 %v p99 %v max %v", q(0.5), q(0.9), q(0.99), q(1))
}

// countMark: n events produced, or counted in user_hour, at a moment.
type countMark struct {
	n  uint64
	at time.Time
}

// pollRollups samples user_hour's announce count every 200 ms until ctx ends.
func pollRollups(ctx context.Context, conn chconn.Conn) []countMark {
	var out []countMark
	for ctx.Err() == nil {
		var n uint64
		if err := conn.QueryRow(ctx, "SELECT toUInt64(countMerge(announces)) FROM user_hour").Scan(&n); err == nil {
			out = append(out, countMark{n, time.Now()})
		}
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
	return out
}
