package stream

import (
	"errors"
	"fmt"
	"time"

	"github.com/ratioguard/ratioguard/schemas/events"
)

// Config configures a Producer. Zero fields take the documented defaults,
// except Brokers and SpoolDir, which are required.
type Config struct {
	// Brokers to bootstrap from, host:port.
	Brokers []string
	// Topic to produce to; default events.Topic.
	Topic string

	// QueueSize bounds the in-memory queue (events); default 16384. When it
	// is full, events go to the spool.
	QueueSize int
	// BatchSize is the most events per Kafka write; default 1000.
	BatchSize int
	// BatchTimeout is the Kafka client's linger: a synchronous write of a
	// batch smaller than a full one waits this long before it is sent,
	// while later events gather in the queue for the next write. Default
	// 5ms (never leave it implicit: kafka-go, the client before franz-go,
	// waited a full second by default). It also bounds the writer's
	// throughput to about BatchSize events per BatchTimeout: at 20ms the
	// queue overflowed to the spool at 30k announces/s (docs/BENCHMARKS.md,
	// "Server CPU per announce").
	BatchTimeout time.Duration
	// WriteTimeout bounds one batch write, including the acknowledgements
	// from all in-sync replicas; default 10s.
	WriteTimeout time.Duration
	// RetryMin and RetryMax bound the exponential backoff between attempts
	// to reach Kafka while spooling; defaults 100ms and 5s.
	RetryMin, RetryMax time.Duration

	// SpoolDir is the directory of the disk spool (required; created if
	// missing; one process per directory).
	SpoolDir string
	// SpoolFsyncInterval is how often spool appends are flushed and
	// fsynced: a crash loses at most this window of spooled events.
	// Default 100ms.
	SpoolFsyncInterval time.Duration
	// SpoolMaxBytes caps the spool on disk; beyond it events are refused
	// (counted and logged) and Ready reports an error. Default 4 GiB.
	SpoolMaxBytes int64
	// SpoolSegmentBytes is the size at which a spool segment is rotated;
	// default 64 MiB.
	SpoolSegmentBytes int64

	// NewWriter makes the Kafka writer; default KafkaWriter (a franz-go
	// client). Tests inject failing or counting writers. A new
	// writer is made after every failed write.
	NewWriter WriterFactory
	// Recycle, when set, is called with each event once the producer no
	// longer references it (after it was encoded for Kafka or the spool),
	// so the caller may pool events. Never called for an event twice.
	Recycle func(*events.Announce)
}

// Defaults.
const (
	DefaultQueueSize          = 16384
	DefaultBatchSize          = 1000
	DefaultBatchTimeout       = 5 * time.Millisecond
	DefaultWriteTimeout       = 10 * time.Second
	DefaultRetryMin           = 100 * time.Millisecond
	DefaultRetryMax           = 5 * time.Second
	DefaultSpoolFsyncInterval = 100 * time.Millisecond
	DefaultSpoolMaxBytes      = 4 << 30
	DefaultSpoolSegmentBytes  = 64 << 20
)

// withDefaults fills zero fields and checks the result.
func (c Config) withDefaults() (Config, error) {
	if c.Topic == "" {
		c.Topic = events.Topic
	}
	setDefault(&c.QueueSize, DefaultQueueSize)
	setDefault(&c.BatchSize, DefaultBatchSize)
	setDefault(&c.BatchTimeout, DefaultBatchTimeout)
	setDefault(&c.WriteTimeout, DefaultWriteTimeout)
	setDefault(&c.RetryMin, DefaultRetryMin)
	setDefault(&c.RetryMax, DefaultRetryMax)
	setDefault(&c.SpoolFsyncInterval, DefaultSpoolFsyncInterval)
	setDefault(&c.SpoolMaxBytes, DefaultSpoolMaxBytes)
	setDefault(&c.SpoolSegmentBytes, DefaultSpoolSegmentBytes)
	if c.NewWriter == nil {
		c.NewWriter = KafkaWriter
	}
	var errs []error
	if len(c.Brokers) == 0 {
		errs = append(errs, errors.New("no Kafka brokers"))
	}
	if c.SpoolDir == "" {
		errs = append(errs, errors.New("no spool directory"))
	}
	if c.QueueSize < 0 || c.BatchSize < 0 || c.BatchTimeout < 0 || c.WriteTimeout < 0 ||
		c.RetryMin < 0 || c.RetryMax < c.RetryMin || c.SpoolFsyncInterval < 0 ||
		c.SpoolMaxBytes < 0 || c.SpoolSegmentBytes < 0 {
		errs = append(errs, errors.New("a size or duration is negative, or RetryMax < RetryMin"))
	}
	if err := errors.Join(errs...); err != nil {
		return c, fmt.Errorf("stream config: %w", err)
	}
	return c, nil
}

func setDefault[T int | int64 | time.Duration](v *T, def T) {
	if *v == 0 {
		*v = def
	}
}
