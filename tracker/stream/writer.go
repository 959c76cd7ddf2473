package stream

import (
	"context"
	"fmt"
	"hash/fnv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ratioguard/ratioguard/schemas/events"
)

// MessageWriter sends batches of records to the topic. A call must be
// synchronous: nil means every record was acknowledged. The records belong
// to the caller again when the call returns, unless it returned because
// ctx ended (the client may still hold them then).
type MessageWriter interface {
	WriteRecords(ctx context.Context, recs []kgo.Record) error
	Close() error
}

// WriterFactory makes a writer for the brokers and topic. The producer makes
// a new one after every failed write.
type WriterFactory func(brokers []string, topic string, batchTimeout time.Duration) MessageWriter

// KafkaWriter is the default WriterFactory: a franz-go client of its own
// that produces to topic with every record acknowledged by all in-sync
// replicas, one attempt per record (no retries hidden inside the client:
// a failed write goes to the spool, which the producer replays), no
// idempotent producer id (one produce request in flight per broker, as the
// writes are synchronous anyway), no compression, the partition chosen by
// Partition, and batchTimeout as the linger: a write smaller than a full
// batch waits this long before it is sent, while later events gather in
// the queue for the next write.
func KafkaWriter(brokers []string, topic string, batchTimeout time.Duration) MessageWriter {
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(brokers...),
		kgo.DefaultProduceTopic(topic),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.DisableIdempotentWrite(),
		kgo.RecordRetries(0),
		kgo.ProducerBatchCompression(kgo.NoCompression()),
		kgo.ProducerLinger(batchTimeout),
		kgo.RecordPartitioner(kgo.StickyKeyPartitioner(kgo.SaramaCompatHasher(fnv32a))),
	)
	if err != nil {
		return failedWriter{fmt.Errorf("kafka client: %w", err)}
	}
	return &franzWriter{cl: cl}
}

// Partition is the partition of n that KafkaWriter sends key to: FNV-1a
// (32 bits) of the key, as a signed 32-bit integer, modulo n, made
// non-negative. It is the partitioning kafka-go's Hash balancer (the
// tracker's producer until session 7) and Sarama use, so all of a user's
// events stay on the partition they were on before: consumers rely on one
// partition per user for the order of a user's events.
func Partition(key []byte, n int) int {
	return kgo.SaramaCompatHasher(fnv32a)(key, n)
}

func fnv32a(b []byte) uint32 {
	h := fnv.New32a()
	h.Write(b)
	return h.Sum32()
}

// franzWriter is a MessageWriter over a franz-go client.
type franzWriter struct {
	cl *kgo.Client
}

// WriteRecords produces recs and waits for every record's promise, or for
// ctx to end (then the client is left to fail or finish the records; the
// producer closes it after a failed write).
func (w *franzWriter) WriteRecords(ctx context.Context, recs []kgo.Record) error {
	if len(recs) == 0 {
		return nil
	}
	pw := &pendingWrite{left: len(recs), total: len(recs), done: make(chan struct{})}
	for i := range recs {
		w.cl.Produce(ctx, &recs[i], pw.promise)
	}
	select {
	case <-pw.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	if len(pw.errs) == 0 {
		return nil
	}
	return &recordErrors{errs: pw.errs, total: pw.total}
}

// Close fails what the client still buffers and closes its connections.
func (w *franzWriter) Close() error {
	w.cl.Close()
	return nil
}

// pendingWrite collects the promises of one write.
type pendingWrite struct {
	mu    sync.Mutex
	left  int
	total int
	errs  []error // the failed records' errors, in promise order
	done  chan struct{}
}

func (pw *pendingWrite) promise(_ *kgo.Record, err error) {
	pw.mu.Lock()
	defer pw.mu.Unlock()
	if err != nil {
		pw.errs = append(pw.errs, err)
	}
	if pw.left--; pw.left == 0 {
		close(pw.done)
	}
}

// failedWriter fails every write with the error that kept the client from
// being made.
type failedWriter struct{ err error }

func (f failedWriter) WriteRecords(context.Context, []kgo.Record) error { return f.err }
func (failedWriter) Close() error                                       { return nil }

// batch holds the Kafka records of one write. Keys and values live in two
// arenas reused from batch to batch. After a write that returned early (its
// context ended), the client may still hold the records, so the arenas are
// dropped rather than reused (reset(true)).
type batch struct {
	recs  []kgo.Record
	keys  []byte
	vals  []byte
	spans []int // end offset in vals of each record
}

func (b *batch) reset(abandon bool) {
	if abandon {
		*b = batch{}
		return
	}
	b.recs, b.keys, b.vals, b.spans = b.recs[:0], b.keys[:0], b.vals[:0], b.spans[:0]
}

// addEvent encodes ev; on error it adds nothing.
func (b *batch) addEvent(ev *events.Announce) error {
	vals, err := encodeEvent(b.vals, ev)
	if err != nil {
		return err
	}
	b.vals = vals
	b.keys = appendKey(b.keys, ev.GetUserId())
	b.spans = append(b.spans, len(b.vals))
	return nil
}

// addRecord adds a record read back from the spool.
func (b *batch) addRecord(r record) {
	b.keys = append(b.keys, r.key...)
	b.vals = append(b.vals, r.value...)
	b.spans = append(b.spans, len(b.vals))
}

// records builds the Kafka records once the arenas stopped growing; each
// is a fresh value (the client writes partition, offset and time into the
// records it produces).
func (b *batch) records() []kgo.Record {
	b.recs = b.recs[:0]
	start := 0
	for i, end := range b.spans {
		b.recs = append(b.recs, kgo.Record{
			Key:   b.keys[i*keyLen : (i+1)*keyLen : (i+1)*keyLen],
			Value: b.vals[start:end:end],
		})
		start = end
	}
	return b.recs
}

func (b *batch) len() int { return len(b.spans) }
