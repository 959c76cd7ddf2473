package consumer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Config says what to consume and how to cut batches.
type Config struct {
	Brokers  []string
	Topic    string
	DLQTopic string // default Topic + ".dlq"
	// Group is the Kafka consumer group; default
	// "ratioguard-ingest-<sink name>-<topic>".
	Group string
	// InstanceID enables static membership: a restarted process with the
	// same id gets its partitions back without a rebalance. Empty: dynamic.
	InstanceID     string
	MaxBatch       int           // records per batch; default 50,000
	Linger         time.Duration // max age of a batch's first record; default 1s
	SessionTimeout time.Duration // default 10s
	Log            *slog.Logger
	// AfterStore, if set, is called after each stored batch (benchmarks).
	AfterStore func(b *Batch, stored time.Time)
	// Monitor, if set, records lag, batches, stores and dead letters.
	Monitor *Monitor
	// LagEvery is how often, with a Monitor, the partitions' end offsets
	// are asked of the broker (default 10s): fetching pauses while a sink
	// cannot store, and the lag must go on growing then.
	LagEvery time.Duration
}

func (c *Config) defaults(sink Sink) {
	if c.DLQTopic == "" {
		c.DLQTopic = c.Topic + ".dlq"
	}
	if c.Group == "" {
		c.Group = "ratioguard-ingest-" + sink.Name() + "-" + c.Topic
	}
	if c.MaxBatch <= 0 {
		c.MaxBatch = 50_000
	}
	if c.Linger <= 0 {
		c.Linger = time.Second
	}
	if c.SessionTimeout <= 0 {
		c.SessionTimeout = 10 * time.Second
	}
	if c.LagEvery <= 0 {
		c.LagEvery = 10 * time.Second
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	c.Log = c.Log.With("sink", sink.Name())
}

// consumer is one group member feeding one sink.
type consumer struct {
	cfg  Config
	sink Sink
	cl   *kgo.Client
	ctx  context.Context // canceled when Run returns

	mu      sync.Mutex
	workers map[int32]*worker
}

// Run consumes cfg.Topic into sink until ctx is canceled. It never commits
// offsets to Kafka: on every assignment it asks the sink where to resume.
func Run(ctx context.Context, cfg Config, sink Sink) error {
	cfg.defaults(sink)
	if len(cfg.Brokers) == 0 || cfg.Topic == "" {
		return errors.New("consumer: brokers and topic are required")
	}
	c := &consumer{cfg: cfg, sink: sink, ctx: ctx, workers: map[int32]*worker{}}
	opts := []kgo.Opt{
		kgo.SeedBrokers(cfg.Brokers...),
		kgo.ConsumerGroup(cfg.Group),
		kgo.ConsumeTopics(cfg.Topic),
		kgo.DisableAutoCommit(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.AdjustFetchOffsetsFn(c.assigned),
		kgo.OnPartitionsRevoked(func(_ context.Context, _ *kgo.Client, m map[string][]int32) { c.stop(m[cfg.Topic], true) }),
		kgo.OnPartitionsLost(func(_ context.Context, _ *kgo.Client, m map[string][]int32) { c.stop(m[cfg.Topic], false) }),
		kgo.SessionTimeout(cfg.SessionTimeout),
		kgo.FetchMaxWait(250 * time.Millisecond),
		kgo.FetchMaxPartitionBytes(16 << 20),
		kgo.FetchMaxBytes(64 << 20),
		kgo.WithLogger(kgoLogger{cfg.Log}),
	}
	if cfg.InstanceID != "" {
		opts = append(opts, kgo.InstanceID(cfg.InstanceID))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return fmt.Errorf("consumer %s: new kafka client: %w", sink.Name(), err)
	}
	c.cl = cl
	cfg.Monitor.add(c)
	defer cfg.Monitor.remove(c)
	if cfg.Monitor != nil {
		wctx, stopWatch := context.WithCancel(ctx)
		watched := make(chan struct{})
		go func() { defer close(watched); c.watchEnds(wctx) }()
		defer func() { stopWatch(); <-watched }()
	}
	cfg.Log.Info("consuming", "topic", cfg.Topic, "group", cfg.Group, "brokers", cfg.Brokers)
	c.poll(ctx)
	// Graceful stop: store what is pending (fresh context: ctx is done), then
	// leave the group.
	c.stopAll(true)
	cl.Close()
	return nil
}

// poll routes fetched records to their partition's worker. A worker that is
// busy (its sink is down) blocks the loop: consumption pauses.
func (c *consumer) poll(ctx context.Context) {
	for {
		fetches := c.cl.PollRecords(ctx, 10_000)
		if ctx.Err() != nil || fetches.IsClientClosed() {
			return
		}
		fetches.EachError(func(topic string, p int32, err error) {
			if !errors.Is(err, context.Canceled) {
				c.cfg.Log.Warn("fetch error", "topic", topic, "partition", p, "err", err)
			}
		})
		fetches.EachPartition(func(ftp kgo.FetchTopicPartition) {
			if ftp.Topic != c.cfg.Topic {
				return
			}
			c.mu.Lock()
			w := c.workers[ftp.Partition]
			c.mu.Unlock()
			if w == nil {
				return
			}
			w.raiseHighWater(ftp.HighWatermark)
			if len(ftp.Records) > 0 {
				w.send(ctx, ftp.Records)
			}
		})
	}
}

// assigned runs when partitions are assigned: it asks the sink for each
// partition's stored offset (retrying while the sink is down), starts a
// worker, and makes the fetch start there.
func (c *consumer) assigned(ctx context.Context, offsets map[string]map[int32]kgo.Offset) (map[string]map[int32]kgo.Offset, error) {
	parts := offsets[c.cfg.Topic]
	for p := range parts {
		var resume int64
		err := retry(ctx, c.cfg.Log, "read stored offset", func() error {
			var err error
			resume, err = c.sink.Resume(ctx, c.cfg.Topic, p)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("resume partition %d: %w", p, err)
		}
		if resume < 0 {
			parts[p] = kgo.NewOffset().AtStart()
		} else {
			parts[p] = kgo.NewOffset().At(resume).WithEpoch(-1)
		}
		c.start(p, resume)
		c.cfg.Log.Info("partition assigned", "partition", p, "resume", resume)
	}
	return offsets, nil
}

func (c *consumer) start(p int32, resume int64) {
	c.stop([]int32{p}, false)
	w := newWorker(c, p, resume)
	c.mu.Lock()
	c.workers[p] = w
	c.mu.Unlock()
	go w.run()
}

// stop ends the workers of partitions; flush stores their pending batch
// first (a revoke: the partition is still ours until this returns).
func (c *consumer) stop(parts []int32, flush bool) {
	var ws []*worker
	c.mu.Lock()
	for _, p := range parts {
		if w := c.workers[p]; w != nil {
			ws = append(ws, w)
			delete(c.workers, p)
		}
	}
	c.mu.Unlock()
	for _, w := range ws {
		w.stop(flush)
	}
	for _, w := range ws {
		<-w.done
	}
}

func (c *consumer) stopAll(flush bool) {
	c.mu.Lock()
	parts := make([]int32, 0, len(c.workers))
	for p := range c.workers {
		parts = append(parts, p)
	}
	c.mu.Unlock()
	c.stop(parts, flush)
}

// reseek moves the fetch position of a partition (after ErrFenced).
func (c *consumer) reseek(p int32, offset int64) {
	if offset < 0 {
		offset = 0
	}
	c.cl.SetOffsets(map[string]map[int32]kgo.EpochOffset{c.cfg.Topic: {p: {Epoch: -1, Offset: offset}}})
}

// watchEnds raises the assigned partitions' high watermarks to the end
// offsets the broker lists, every LagEvery, until ctx ends.
func (c *consumer) watchEnds(ctx context.Context) {
	adm := kadm.NewClient(c.cl)
	t := time.NewTicker(c.cfg.LagEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		ends, err := adm.ListEndOffsets(ctx, c.cfg.Topic)
		if err != nil {
			continue // the next tick retries; fetch errors are logged by poll
		}
		ends.Each(func(o kadm.ListedOffset) {
			if o.Err != nil || o.Topic != c.cfg.Topic {
				return
			}
			c.mu.Lock()
			w := c.workers[o.Partition]
			c.mu.Unlock()
			if w != nil {
				w.raiseHighWater(o.Offset)
			}
		})
	}
}

// kgoLogger forwards franz-go's warnings and errors to slog.
type kgoLogger struct{ log *slog.Logger }

func (l kgoLogger) Level() kgo.LogLevel { return kgo.LogLevelWarn }

func (l kgoLogger) Log(level kgo.LogLevel, msg string, keyvals ...any) {
	switch level {
	case kgo.LogLevelError:
		l.log.Error("kafka: "+msg, keyvals...)
	default:
		l.log.Warn("kafka: "+msg, keyvals...)
	}
}
