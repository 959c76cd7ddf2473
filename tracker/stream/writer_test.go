package stream

import (
	"context"
	"encoding/binary"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
)

// The partition of a key is the one kafka-go's Hash balancer chose when the
// producer wrote with kafka-go: a user's events stay on their partition
// across the change of client.
func TestPartitionIsKafkaGoHash(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 7))
	for _, n := range []int{1, 2, 3, 4, 7, 8, 12, 16, 64} {
		parts := make([]int, n)
		for i := range parts {
			parts[i] = i
		}
		h := &kafka.Hash{}
		for i := range 20000 {
			user := uint64(i)
			if i >= 10000 {
				user = rng.Uint64()
			}
			key := appendKey(nil, user)
			if got, want := Partition(key, n), h.Balance(kafka.Message{Key: key}, parts...); got != want {
				t.Fatalf("user %d, %d partitions: partition %d, kafka-go's Hash balancer %d", user, n, got, want)
			}
		}
	}
}

// KafkaWriter sends each record to Partition(key), and a write's records
// are acknowledged when it returns.
func TestKafkaWriterPartitionsByUser(t *testing.T) {
	const partitions = 4
	brokers, topic := newCluster(t, partitions)
	w := KafkaWriter(brokers, topic, time.Millisecond)
	defer w.Close()
	var b batch
	for i := range 200 {
		if err := b.addEvent(event(uint64(i))); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	recs := b.records()
	if err := w.WriteRecords(ctx, recs); err != nil {
		t.Fatal(err)
	}
	for i, r := range recs {
		user := binary.BigEndian.Uint64(r.Key)
		if want := Partition(r.Key, partitions); int(r.Partition) != want || r.Offset < 0 {
			t.Fatalf("record %d (user %d): partition %d offset %d, want partition %d", i, user, r.Partition, r.Offset, want)
		}
	}
	readTopic(t, brokers, topic).check(t, len(recs))
}

// A small write allocates in proportion to its size: 20 events to 4
// partitions stay far below the ~600 KB per write kafka-go's preallocated
// per-partition batches once cost.
func TestKafkaWriterSmallWriteAllocatesLittle(t *testing.T) {
	brokers, topic := newCluster(t, 4)
	w := KafkaWriter(brokers, topic, time.Millisecond)
	defer w.Close()
	var b batch
	for i := range 20 {
		if err := b.addEvent(event(uint64(i))); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := w.WriteRecords(ctx, b.records()); err != nil { // warm-up: metadata, connections
		t.Fatal(err)
	}
	const writes = 20
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range writes {
		if err := w.WriteRecords(ctx, b.records()); err != nil {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	// The in-process broker's own allocations count too.
	perWrite := (after.TotalAlloc - before.TotalAlloc) / writes
	t.Logf("%d bytes allocated per write of %d records (client and in-process broker)", perWrite, b.len())
	if perWrite > 450<<10 {
		t.Fatalf("a write of %d records allocates %d bytes", b.len(), perWrite)
	}
}
