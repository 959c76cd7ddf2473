package consumer_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ratioguard/ratioguard/ingest/consumer"
	"github.com/ratioguard/ratioguard/schemas/events"
)

// gatedSink is a decoding memSink whose first Store waits for the test:
// it reports when it is called, then blocks until released.
type gatedSink struct {
	*memSink
	added   atomic.Int64 // records decoded so far
	called  chan struct{}
	release chan struct{}
	first   atomic.Bool
}

func newGatedSink() *gatedSink {
	return &gatedSink{memSink: newMemSink(), called: make(chan struct{}), release: make(chan struct{})}
}

func (g *gatedSink) NewBatchData(int32) consumer.BatchData { return &countingData{g: g} }

func (g *gatedSink) Store(ctx context.Context, b *consumer.Batch) error {
	if g.first.CompareAndSwap(false, true) {
		close(g.called)
		select {
		case <-g.release:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return g.memSink.Store(ctx, b)
}

type countingData struct {
	offsetData
	g *gatedSink
}

func (d *countingData) Add(offset int64, value []byte) error {
	if err := d.offsetData.Add(offset, value); err != nil {
		return err
	}
	d.g.added.Add(1)
	return nil
}

// pipeline runs a consumer of one partition into sink and returns a
// producer of n more records and a wait for the sink to hold offset next.
func pipeline(t *testing.T, sink consumer.Sink, mem *memSink) (produce func(n int), waitStored func(next int64)) {
	t.Helper()
	const topic = "announces"
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, topic), kfake.SeedTopics(1, topic+".dlq"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.DefaultProduceTopic(topic))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	seq := uint64(0)
	produce = func(n int) {
		recs := make([]*kgo.Record, n)
		for i := range recs {
			v, err := events.Encode(&events.Announce{SchemaVersion: 1, EventId: events.ID([8]byte{2}, seq),
				TimeUnixNano: int64(seq + 1), Result: events.Result_RESULT_ACCEPTED})
			if err != nil {
				t.Fatal(err)
			}
			seq++
			recs[i] = &kgo.Record{Value: v}
		}
		if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- consumer.Run(runCtx, consumer.Config{Brokers: c.ListenAddrs(), Topic: topic, MaxBatch: 100,
			Linger: 50 * time.Millisecond}, sink)
	}()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	waitStored = func(next int64) {
		t.Helper()
		for {
			mem.mu.Lock()
			n := mem.next[0]
			mem.mu.Unlock()
			if n == next {
				return
			}
			select {
			case <-ctx.Done():
				t.Fatalf("sink holds offset %d, want %d", n, next)
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
	return produce, waitStored
}

// TestConsumerReadsTheNextBatchWhileStoring: while the sink stores a batch,
// the worker decodes the next one (and no further: one batch ahead at most);
// the next batch is handed over only after, starting where the stored one
// ended.
func TestConsumerReadsTheNextBatchWhileStoring(t *testing.T) {
	g := newGatedSink()
	produce, waitStored := pipeline(t, g, g.memSink)
	produce(100)
	<-g.called // the first batch is being stored and will not finish until released
	produce(100)
	deadline := time.Now().Add(20 * time.Second)
	for g.added.Load() < 200 {
		if time.Now().After(deadline) {
			t.Fatalf("decoded %d records while the first batch was being stored, want the next full batch (200)", g.added.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The second batch is full: the worker waits for the first store
	// instead of reading on.
	produce(50)
	time.Sleep(200 * time.Millisecond) // four lingers: time to read on, if it wrongly did
	if n := g.added.Load(); n != 200 {
		t.Fatalf("decoded %d records while the first batch was being stored, want 200: one batch ahead at most", n)
	}
	g.mu.Lock()
	storedEarly := g.next[0]
	g.mu.Unlock()
	if storedEarly != 0 {
		t.Fatalf("sink already holds offset %d while its first store is blocked", storedEarly)
	}
	close(g.release)
	waitStored(250)
	if got, want := fmt.Sprint(g.offsets[0]), fmt.Sprint(seqTo(250)); got != want {
		t.Fatalf("stored offsets %v, want 0..249 once each, in order", g.offsets[0])
	}
}

// TestConsumerDropsTheNextBatchWhenFenced: when the batch being stored is
// fenced (another consumer stored the partition meanwhile), the batch read
// behind it is dropped too and reading starts again at the stored offset.
func TestConsumerDropsTheNextBatchWhenFenced(t *testing.T) {
	g := newGatedSink()
	produce, waitStored := pipeline(t, g, g.memSink)
	produce(100)
	<-g.called
	produce(100)
	for g.added.Load() < 200 {
		time.Sleep(10 * time.Millisecond)
	}
	// Another consumer stored offsets 0..59 meanwhile.
	g.mu.Lock()
	g.next[0] = 60
	g.offsets[0] = seqTo(60)
	g.mu.Unlock()
	close(g.release)
	waitStored(200)
	if got, want := fmt.Sprint(g.offsets[0]), fmt.Sprint(seqTo(200)); got != want {
		t.Fatalf("stored offsets %v, want 0..199 once each, in order", g.offsets[0])
	}
}

func seqTo(n int64) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = int64(i)
	}
	return out
}
