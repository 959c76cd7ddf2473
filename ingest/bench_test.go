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
// default batching; latency = insert acknowledged (rows queryable) minus
// the event's time, stamped just before it is produced.
func TestQueryableLatency(t *testing.T) {
	benchOn(t)
	secs := 30
	if v, err := strconv.Atoi(os.Getenv("RG_BENCH_SECONDS")); err == nil && v > 0 {
		secs = v
	}
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
			Sinks: []string{ingest.SinkClickHouse}, Log: testLog(),
			AfterStore: func(_ string, b *consumer.Batch, at time.Time) {
				mu.Lock()
				for _, ev := range b.Events {
					lat = append(lat, at.Sub(time.Unix(0, ev.A.GetTimeUnixNano())))
				}
				mu.Unlock()
			}})
	}()
	g := ingesttest.NewGen(9, 20_000, 10_000, time.Now())
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
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
	}
	produceTime := time.Since(start)
	ends, err := ingesttest.EndOffsets(ctx, s.kafka.Brokers, s.kafka.Topic)
	if err != nil {
		t.Fatal(err)
	}
	err = ingesttest.WaitCaughtUp(ctx, ends, chOffsets(s.ch.Conn, s.kafka.Topic))
	stop()
	<-done
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	q := func(p float64) time.Duration { return lat[int(p*float64(len(lat)-1))].Round(time.Millisecond) }
	t.Logf("produced %d events in %v (%.0f/s); latency announce->queryable p50 %v p90 %v p99 %v max %v",
		sent, produceTime.Round(time.Millisecond), float64(sent)/produceTime.Seconds(), q(0.5), q(0.9), q(0.99), q(1))
}
