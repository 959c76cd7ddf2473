package consumer_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ratioguard/ratioguard/ingest/consumer"
	"github.com/ratioguard/ratioguard/schemas/events"
)

// memSink stores batches in memory: per partition, the offsets of the
// events in the order stored, and the next offset.
type memSink struct {
	mu      sync.Mutex
	next    map[int32]int64
	offsets map[int32][]int64
	times   int
	datas   map[int32]map[consumer.BatchData]bool // Decoder: the BatchData values seen per partition
}

func newMemSink() *memSink {
	return &memSink{next: map[int32]int64{}, offsets: map[int32][]int64{}, datas: map[int32]map[consumer.BatchData]bool{}}
}

func (s *memSink) Name() string { return "mem" }

func (s *memSink) Resume(_ context.Context, _ string, p int32) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n, ok := s.next[p]; ok {
		return n, nil
	}
	return -1, nil
}

func (s *memSink) Store(_ context.Context, b *consumer.Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	prev, ok := s.next[b.Partition]
	if !ok {
		prev = -1
	}
	if prev != b.Prev {
		return consumer.ErrFenced
	}
	for _, ev := range b.Events {
		s.offsets[b.Partition] = append(s.offsets[b.Partition], ev.Offset)
	}
	if d := asOffsetData(b.Data); d != nil {
		s.offsets[b.Partition] = append(s.offsets[b.Partition], d.offsets...)
		if s.datas[b.Partition] == nil {
			s.datas[b.Partition] = map[consumer.BatchData]bool{}
		}
		s.datas[b.Partition][b.Data] = true
	}
	b.EventTimes(func(int64) { s.times++ })
	s.next[b.Partition] = b.Next
	return nil
}

// asOffsetData returns the offsets a test BatchData decoded, nil if none.
func asOffsetData(d consumer.BatchData) *offsetData {
	switch d := d.(type) {
	case *offsetData:
		return d
	case *countingData:
		return &d.offsetData
	}
	return nil
}

// decoderSink is memSink decoding records itself.
type decoderSink struct{ *memSink }

func (decoderSink) NewBatchData(int32) consumer.BatchData { return &offsetData{} }

type offsetData struct{ offsets, times []int64 }

func (d *offsetData) Add(offset int64, value []byte) error {
	a, err := events.Decode(value)
	if err != nil {
		return err
	}
	d.offsets, d.times = append(d.offsets, offset), append(d.times, a.GetTimeUnixNano())
	return nil
}

func (d *offsetData) Len() int { return len(d.offsets) }
func (d *offsetData) Reset()   { d.offsets, d.times = d.offsets[:0], d.times[:0] }

func (d *offsetData) EventTimes(fn func(int64)) {
	for _, t := range d.times {
		fn(t)
	}
}

// TestConsumerStoresEveryRecordOnce runs the consumer on a fake cluster with
// both kinds of sinks: every decodable record is stored once, in offset
// order; every other one is dead-lettered with its reason and its bytes.
func TestConsumerStoresEveryRecordOnce(t *testing.T) {
	for _, decoder := range []bool{false, true} {
		t.Run(fmt.Sprintf("decoder=%v", decoder), func(t *testing.T) {
			const topic, parts, n = "announces", 2, 3000
			c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(parts, topic), kfake.SeedTopics(1, topic+".dlq"))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.DefaultProduceTopic(topic),
				kgo.RecordPartitioner(kgo.ManualPartitioner()))
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			want := map[int32][]int64{}
			var garbage [][]byte
			next := map[int32]int64{}
			for i := range n {
				p := int32(i % parts)
				v, err := events.Encode(&events.Announce{SchemaVersion: 1, EventId: events.ID([8]byte{1}, uint64(i)),
					TimeUnixNano: int64(i + 1), Result: events.Result_RESULT_ACCEPTED})
				if err != nil {
					t.Fatal(err)
				}
				if i%97 == 5 {
					v = []byte{0xff, byte(i), byte(i >> 8)}
					garbage = append(garbage, v)
				} else {
					want[p] = append(want[p], next[p])
				}
				next[p]++
				if err := cl.ProduceSync(ctx, &kgo.Record{Partition: p, Value: v}).FirstErr(); err != nil {
					t.Fatal(err)
				}
			}
			mem := newMemSink()
			var sink consumer.Sink = mem
			if decoder {
				sink = decoderSink{mem}
			}
			reg := prometheus.NewRegistry()
			mon, err := consumer.NewMonitor(reg)
			if err != nil {
				t.Fatal(err)
			}
			runCtx, stop := context.WithCancel(ctx)
			done := make(chan error, 1)
			go func() {
				done <- consumer.Run(runCtx, consumer.Config{Brokers: c.ListenAddrs(), Topic: topic, MaxBatch: 250,
					Linger: 50 * time.Millisecond, Monitor: mon}, sink)
			}()
			for caughtUp := false; !caughtUp; {
				select {
				case <-ctx.Done():
					t.Fatal("consumer did not catch up")
				case <-time.After(20 * time.Millisecond):
				}
				mem.mu.Lock()
				caughtUp = mem.next[0] == next[0] && mem.next[1] == next[1]
				mem.mu.Unlock()
			}
			// The monitor saw it all: no lag left on either partition, every
			// record stored, every dead letter counted, the sink ready. The
			// monitor records a batch after the sink returns, so the figures
			// are awaited (up to the test's deadline) before they are checked.
			settled := func() bool {
				for p := range int32(parts) {
					if lag, ok := metricValue(t, reg, "ratioguard_ingest_consumer_lag", "partition", fmt.Sprint(p)); !ok || lag != 0 {
						return false
					}
				}
				stored, _ := metricValue(t, reg, "ratioguard_ingest_records_stored_total", "sink", "mem")
				dead, _ := metricValue(t, reg, "ratioguard_ingest_dead_letters_total", "sink", "mem")
				return stored == n && int(dead) == len(garbage)
			}
			for !settled() && ctx.Err() == nil {
				time.Sleep(20 * time.Millisecond)
			}
			for p := range int32(parts) {
				if lag, ok := metricValue(t, reg, "ratioguard_ingest_consumer_lag", "partition", fmt.Sprint(p)); !ok || lag != 0 {
					t.Errorf("partition %d: lag %v (exported: %v) once caught up, want 0", p, lag, ok)
				}
			}
			if v, _ := metricValue(t, reg, "ratioguard_ingest_records_stored_total", "sink", "mem"); v != n {
				t.Errorf("records stored %v, want %d", v, n)
			}
			if v, _ := metricValue(t, reg, "ratioguard_ingest_dead_letters_total", "sink", "mem"); int(v) != len(garbage) {
				t.Errorf("dead letters %v, want %d", v, len(garbage))
			}
			if v, _ := metricValue(t, reg, "ratioguard_ingest_batch_records", "sink", "mem"); v < parts {
				t.Errorf("%v batches observed, want at least one per partition", v)
			}
			if err := mon.Ready(); err != nil {
				t.Errorf("Ready: %v", err)
			}
			stop()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			for p := range int32(parts) {
				if got := mem.offsets[p]; fmt.Sprint(got) != fmt.Sprint(want[p]) {
					t.Errorf("partition %d: stored %d events, want %d (in order, once each)", p, len(got), len(want[p]))
				}
				if decoder && (len(mem.datas[p]) < 1 || len(mem.datas[p]) > 2) {
					t.Errorf("partition %d: %d BatchData values, want the worker's two buffers reused for every batch", p, len(mem.datas[p]))
				}
			}
			if wantTimes := len(want[0]) + len(want[1]); mem.times != wantTimes {
				t.Errorf("EventTimes saw %d events, want %d", mem.times, wantTimes)
			}
			checkDLQ(t, ctx, c.ListenAddrs(), topic+".dlq", garbage)
		})
	}
}

// metricValue is the value of the first series of the metric family name
// whose label has the given value (a histogram's: its sample count).
func metricValue(t *testing.T, reg *prometheus.Registry, name, label, value string) (float64, bool) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() != label || l.GetValue() != value {
					continue
				}
				switch {
				case m.Counter != nil:
					return m.Counter.GetValue(), true
				case m.Gauge != nil:
					return m.Gauge.GetValue(), true
				case m.Histogram != nil:
					return float64(m.Histogram.GetSampleCount()), true
				}
			}
		}
	}
	return 0, false
}

func checkDLQ(t *testing.T, ctx context.Context, brokers []string, dlq string, garbage [][]byte) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(dlq), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var got []*kgo.Record
	for len(got) < len(garbage) && ctx.Err() == nil {
		fs := cl.PollFetches(ctx)
		fs.EachRecord(func(r *kgo.Record) { got = append(got, r) })
	}
	if len(got) != len(garbage) {
		t.Fatalf("%d dead letters, want %d", len(got), len(garbage))
	}
	seen := 0
	for _, r := range got {
		var reason string
		for _, h := range r.Headers {
			if h.Key == "reason" {
				reason = string(h.Value)
			}
		}
		_, decodeErr := events.Decode(r.Value)
		if decodeErr == nil || reason != decodeErr.Error() {
			t.Errorf("dead letter %x: reason %q, want Decode's %v", r.Value, reason, decodeErr)
		}
		for _, g := range garbage {
			if bytes.Equal(g, r.Value) {
				seen++
				break
			}
		}
	}
	if seen != len(garbage) {
		t.Errorf("%d of %d dead letters carry a produced garbage value", seen, len(garbage))
	}
}

// failingSink does not store while its engine is down.
type failingSink struct {
	*memSink
	up *atomic.Bool
}

func (s failingSink) Store(ctx context.Context, b *consumer.Batch) error {
	if !s.up.Load() {
		return errors.New("engine down")
	}
	return s.memSink.Store(ctx, b)
}

// A sink that cannot store is not ready, with the reason; its failed
// attempts and its lag are exported; once it stores again it is ready.
func TestMonitorReportsAFailingSink(t *testing.T) {
	const topic = "announces"
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, topic), kfake.SeedTopics(1, topic+".dlq"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.DefaultProduceTopic(topic))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for i := range 5 {
		v, _ := events.Encode(&events.Announce{SchemaVersion: 1, EventId: events.ID([8]byte{2}, uint64(i))})
		if err := cl.ProduceSync(ctx, &kgo.Record{Value: v}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	reg := prometheus.NewRegistry()
	mon, err := consumer.NewMonitor(reg)
	if err != nil {
		t.Fatal(err)
	}
	mon.Waiting("mem", "waiting for its engine")
	if err := mon.Ready(); err == nil || !strings.Contains(err.Error(), "mem sink: waiting") {
		t.Fatalf("Ready before the consumer runs: %v", err)
	}
	var up atomic.Bool
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- consumer.Run(runCtx, consumer.Config{Brokers: c.ListenAddrs(), Topic: topic, Linger: 20 * time.Millisecond, Monitor: mon},
			failingSink{newMemSink(), &up})
	}()
	for {
		err := mon.Ready()
		if err != nil && strings.Contains(err.Error(), "mem sink: storing a batch fails: engine down") {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("Ready never named the failing store: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
	if v, _ := metricValue(t, reg, "ratioguard_ingest_store_errors_total", "sink", "mem"); v < 1 {
		t.Errorf("store errors %v, want at least 1", v)
	}
	if v, ok := metricValue(t, reg, "ratioguard_ingest_consumer_lag", "partition", "0"); !ok || v != 5 {
		t.Errorf("lag %v (exported: %v), want the 5 unstored records", v, ok)
	}
	up.Store(true)
	for err := mon.Ready(); err != nil; err = mon.Ready() {
		select {
		case <-ctx.Done():
			t.Fatalf("still not ready once the sink stores: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
