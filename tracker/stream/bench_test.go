package stream

import (
	"context"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ratioguard/ratioguard/internal/kafkaconn"
	"github.com/ratioguard/ratioguard/internal/testenv"
	"github.com/ratioguard/ratioguard/schemas/events"
)

// Publish cost and throughput; figures in docs/BENCHMARKS.md ("Tracker
// event stream"). Run:
//
//	source .stack/env && go test -run '^$' -bench . -benchmem ./tracker/stream

type nullWriter struct{}

func (nullWriter) WriteRecords(context.Context, []kgo.Record) error { return nil }
func (nullWriter) Close() error                                     { return nil }

func nullFactory([]string, string, time.Duration) MessageWriter { return nullWriter{} }

func benchProducer(b *testing.B, cfg Config) *Producer {
	b.Helper()
	cfg.Brokers, cfg.SpoolDir = []string{"127.0.0.1:1"}, b.TempDir()
	p, err := New(context.Background(), cfg, nil, testLogger(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = p.Close(context.Background()) })
	return p
}

// BenchmarkPublish measures what the request path pays per event.
func BenchmarkPublish(b *testing.B) {
	ev := event(1)
	b.Run("direct", func(b *testing.B) {
		// A queue that never fills and a writer that acknowledges at once:
		// the cost of Publish itself (mutex, ring store, wake-up).
		p := benchProducer(b, Config{QueueSize: b.N + 1, NewWriter: nullFactory})
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			p.Publish(ev)
		}
		b.StopTimer()
		if st := p.Stats(); st.Spooled != 0 {
			b.Fatalf("direct mode spooled: %+v", st)
		}
	})
	b.Run("direct-parallel", func(b *testing.B) {
		p := benchProducer(b, Config{QueueSize: b.N + 1, NewWriter: nullFactory})
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				p.Publish(ev)
			}
		})
		b.StopTimer()
		if st := p.Stats(); st.Spooled != 0 {
			b.Fatalf("direct mode spooled: %+v", st)
		}
	})
	b.Run("spool", func(b *testing.B) {
		// Kafka down: every event is encoded and appended to the buffered
		// spool (flushed and fsynced every 100 ms by the flusher).
		f := faults{}
		f.down.Store(true)
		p := benchProducer(b, Config{NewWriter: f.factory(nullFactory), RetryMin: time.Hour, RetryMax: time.Hour})
		p.Publish(event(0))
		eventually(b, "spooling", 10*time.Second, func() bool { return p.Stats().Spooling })
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			p.Publish(ev)
		}
		b.StopTimer()
		if st := p.Stats(); st.Spooled != uint64(b.N)+1 {
			b.Fatalf("spool mode: %+v, want %d spooled", st, b.N+1)
		}
	})
}

// BenchmarkBaseline gives the figures Publish is compared with.
func BenchmarkBaseline(b *testing.B) {
	ev := event(1)
	b.Run("chan-send", func(b *testing.B) {
		// A buffered channel send with a consumer draining it.
		ch := make(chan *events.Announce, DefaultQueueSize)
		done := make(chan struct{})
		go func() {
			for range ch {
			}
			close(done)
		}()
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			ch <- ev
		}
		b.StopTimer()
		close(ch)
		<-done
	})
	b.Run("encode", func(b *testing.B) {
		// The protobuf encoding every event costs once, off the request
		// path in direct mode, on it in spool mode.
		var buf []byte
		b.ReportAllocs()
		for range b.N {
			var err error
			if buf, err = events.AppendEncode(buf[:0], ev); err != nil {
				b.Fatal(err)
			}
		}
		b.SetBytes(int64(len(buf)))
	})
}

// BenchmarkRealKafka is throughput to the local stack's broker: raw
// KafkaWriter writes (batches of 1000, the producer's settings) as the
// baseline, then the producer end to end (Publish as fast as possible,
// then Close, which drains queue and spool).
func BenchmarkRealKafka(b *testing.B) {
	k := testenv.Kafka(b, 4)
	warmUp(b, k.Brokers, k.Topic)
	b.Run("KafkaWriter", func(b *testing.B) {
		w := KafkaWriter(k.Brokers, k.Topic, DefaultBatchTimeout)
		defer w.Close()
		var bt batch
		for i := range 1000 {
			if err := bt.addEvent(event(uint64(i))); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportAllocs()
		b.ResetTimer()
		start := time.Now()
		for sent := 0; sent < b.N; sent += bt.len() {
			if err := w.WriteRecords(context.Background(), bt.records()[:min(bt.len(), b.N-sent)]); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
	})
	b.Run("producer", func(b *testing.B) { benchProducerThroughput(b, k, DefaultQueueSize) })
	// A queue as large as the run: no overflow, every event goes directly.
	b.Run("producer-direct", func(b *testing.B) { benchProducerThroughput(b, k, b.N) })
}

func benchProducerThroughput(b *testing.B, k testenv.KafkaTopic, queue int) {
	cfg := Config{Brokers: k.Brokers, Topic: k.Topic, SpoolDir: b.TempDir(), QueueSize: queue}
	p, err := New(context.Background(), cfg, nil, testLogger(b))
	if err != nil {
		b.Fatal(err)
	}
	evs := make([]*events.Announce, b.N)
	for i := range evs {
		evs[i] = event(uint64(i))
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for _, ev := range evs {
		p.Publish(ev)
	}
	if err := p.Close(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
	st := p.Stats()
	b.ReportMetric(100*float64(st.Spooled)/float64(b.N), "%spooled")
	if st.Produced < uint64(b.N) || st.SpoolRecords != 0 {
		b.Fatalf("stats %+v", st)
	}
}

// warmUpValue marks messages readTopic skips.
const warmUpValue = "warm-up"

// warmUp writes until the new topic's partitions accept writes (a topic
// is visible in metadata a moment before its partitions take produces).
func warmUp(t testing.TB, brokers []string, topic string) {
	w := kafkaconn.NewWriter(brokers, topic, time.Millisecond)
	defer w.Close()
	msgs := make([]kafka.Message, 64)
	for i := range msgs {
		msgs[i] = kafka.Message{Key: appendKey(nil, uint64(i)), Value: []byte(warmUpValue)}
	}
	var err error
	for range 100 {
		if err = w.WriteMessages(context.Background(), msgs...); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("topic %s never accepted writes: %v", topic, err)
}
