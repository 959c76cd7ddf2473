package consumer_test

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

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
			runCtx, stop := context.WithCancel(ctx)
			done := make(chan error, 1)
			go func() {
				done <- consumer.Run(runCtx, consumer.Config{Brokers: c.ListenAddrs(), Topic: topic, MaxBatch: 250,
					Linger: 50 * time.Millisecond}, sink)
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
