package stream

import (
	"context"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/ratioguard/ratioguard/internal/kafkaconn"
	"github.com/ratioguard/ratioguard/schemas/events"
)

// MessageWriter is the part of *kafka.Writer the producer uses. A call must
// be synchronous: nil means every message was acknowledged.
type MessageWriter interface {
	WriteMessages(ctx context.Context, msgs ...kafka.Message) error
	Close() error
}

// WriterFactory makes a writer for the brokers and topic. The producer makes
// a new one after every failed write.
type WriterFactory func(brokers []string, topic string, batchTimeout time.Duration) MessageWriter

// KafkaWriter is the default WriterFactory: kafkaconn.NewWriter, a
// synchronous kafka-go Writer with RequiredAcks=RequireAll, the given batch
// timeout, key hashing and a single attempt per write, with per-partition
// batches of PartitionBatchSize messages.
func KafkaWriter(brokers []string, topic string, batchTimeout time.Duration) MessageWriter {
	w := kafkaconn.NewWriter(brokers, topic, batchTimeout)
	w.BatchSize = PartitionBatchSize
	return w
}

// PartitionBatchSize is the kafka-go Writer's BatchSize used by KafkaWriter.
// kafka-go allocates BatchSize messages (~150 bytes each) for every
// partition batch up front, whatever the write holds: at 1000, a write of a
// few dozen events to 4 partitions allocated 600 KB, which at a moderate
// announce rate was most of the tracker's allocation (and GC). 250 is the
// default BatchSize spread over 4 partitions: a full write still fills each
// partition's batch, which kafka-go then sends without waiting for the
// batch timeout.
const PartitionBatchSize = 250

// batch holds the Kafka messages of one write. Keys and values live in two
// arenas reused from batch to batch. After a write that returned early (its
// context ended), kafka-go may still hold the messages, so the arenas are
// dropped rather than reused (reset(true)).
type batch struct {
	msgs  []kafka.Message
	keys  []byte
	vals  []byte
	spans []int // end offset in vals of each message
}

func (b *batch) reset(abandon bool) {
	if abandon {
		*b = batch{}
		return
	}
	b.msgs, b.keys, b.vals, b.spans = b.msgs[:0], b.keys[:0], b.vals[:0], b.spans[:0]
}

// addEvent encodes ev; it returns false (and adds nothing) when ev cannot
// be encoded.
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

// messages builds the kafka messages once the arenas stopped growing.
func (b *batch) messages() []kafka.Message {
	b.msgs = b.msgs[:0]
	start := 0
	for i, end := range b.spans {
		b.msgs = append(b.msgs, kafka.Message{
			Key:   b.keys[i*keyLen : (i+1)*keyLen : (i+1)*keyLen],
			Value: b.vals[start:end:end],
		})
		start = end
	}
	return b.msgs
}

func (b *batch) len() int { return len(b.spans) }
