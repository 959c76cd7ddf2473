package stream

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
)

// A small write allocates in proportion to its size, not to kafka-go's
// batch size: 20 events to 4 partitions stay far below the 4 × 1000 × ~150
// bytes that per-partition batches of 1000 messages cost.
func TestKafkaWriterSmallWriteAllocatesLittle(t *testing.T) {
	brokers, topic := newCluster(t, 4)
	w := KafkaWriter(brokers, topic, time.Millisecond)
	defer w.Close()
	msgs := make([]kafka.Message, 20)
	for i := range msgs {
		msgs[i] = kafka.Message{Key: []byte{byte(i)}, Value: make([]byte, 200)}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := w.WriteMessages(ctx, msgs...); err != nil { // warm-up: metadata, connections
		t.Fatal(err)
	}
	const writes = 20
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range writes {
		if err := w.WriteMessages(ctx, msgs...); err != nil {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	// The in-process broker's own allocations count too: ~210 KB per write
	// here (~290 KB under -race), ~670 KB with batches of 1000.
	perWrite := (after.TotalAlloc - before.TotalAlloc) / writes
	t.Logf("%d bytes allocated per write of %d messages (writer and in-process broker)", perWrite, len(msgs))
	if perWrite > 450<<10 {
		t.Fatalf("a write of %d messages allocates %d bytes: the writer's per-partition batches are too large", len(msgs), perWrite)
	}
}
