package stream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ratioguard/ratioguard/schemas/events"
)

// Producer streams announce events to Kafka (see the package documentation).
// It implements the tracker core's Sink. All methods are safe for
// concurrent use.
type Producer struct {
	cfg   Config
	log   *slog.Logger
	spool *spool
	rd    spoolReader

	// spoolingHint mirrors spooling for Publish's lock-free first check.
	spoolingHint atomic.Bool

	mu       sync.Mutex
	q        ring
	inflight int    // events at the head of q the writer is sending
	spooling bool   // new events go to the spool, q is empty
	gen      uint64 // bumped each time q is moved to the spool
	idle     bool   // the writer waits for a wake-up (Publish sends one)
	closing  bool
	closed   bool   // the spool is closed: Publish can only drop
	frames   []byte // scratch for spool appends made under mu

	wake      chan struct{}
	closeCh   chan struct{}
	done      chan struct{} // the writer goroutine ended
	wctx      context.Context
	abort     context.CancelFunc // ends in-flight and later Kafka writes
	closeOnce sync.Once
	closeErr  error
	bg        sync.WaitGroup // flusher and abandoned writers
	framePool sync.Pool

	published, produced, spooled, replayed, kafkaErrors, dropped atomic.Uint64
	// ackedFromQueue counts queued events Kafka acknowledged (not replays):
	// with spooled and dropped, the events that left the memory (Settle).
	ackedFromQueue atomic.Uint64
	full           atomic.Bool  // the spool refused an append for lack of room
	lastDropLog    atomic.Int64 // unix nanos: drop logs are rate limited
	batchSeconds   prometheus.Histogram
}

// Stats is a snapshot of the producer's counters.
type Stats struct {
	Published   uint64 // events given to Publish
	Produced    uint64 // events acknowledged by Kafka (replays may count twice)
	Spooled     uint64 // events appended to the spool
	Replayed    uint64 // events replayed from the spool
	KafkaErrors uint64 // failed Kafka writes
	Dropped     uint64 // events lost (spool full or failing, Publish after Close)

	Queued       int   // events in the in-memory queue
	SpoolRecords int64 // spooled events not yet acknowledged
	SpoolBytes   int64
	Spooling     bool
}

// New opens the spool (replaying what a previous run left there) and starts
// the writer. ctx only bounds the start: the producer runs until Close, so
// that a signal context cancelled on SIGTERM does not cut the drain to
// Kafka short (Close's own context bounds the drain).
func New(ctx context.Context, cfg Config, reg prometheus.Registerer, log *slog.Logger) (*Producer, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("start event producer: %w", err)
	}
	if log == nil {
		log = slog.Default()
	}
	log = log.With("component", "stream", "topic", cfg.Topic)
	sp, err := openSpool(cfg.SpoolDir, cfg.SpoolSegmentBytes, cfg.SpoolMaxBytes, log)
	if err != nil {
		return nil, fmt.Errorf("open event spool: %w", err)
	}
	p := &Producer{
		cfg:     cfg,
		log:     log,
		spool:   sp,
		rd:      spoolReader{s: sp, log: log},
		q:       newRing(cfg.QueueSize),
		wake:    make(chan struct{}, 1),
		closeCh: make(chan struct{}),
		done:    make(chan struct{}),
	}
	p.framePool.New = func() any { b := make([]byte, 0, 512); return &b }
	if err := p.registerMetrics(reg); err != nil {
		sp.close()
		return nil, err
	}
	if rec := sp.recovered; rec.records > 0 || rec.tornBytes > 0 {
		log.Info("stream: replaying the spool left by a previous run",
			"events", rec.records, "segments", rec.segments, "torn_bytes_truncated", rec.tornBytes)
	}
	if rec, _ := sp.depth(); rec > 0 {
		p.spooling = true
		p.spoolingHint.Store(true)
	}
	p.wctx, p.abort = context.WithCancel(context.WithoutCancel(ctx))
	p.bg.Add(1)
	go p.flusher()
	go p.run()
	return p, nil
}

// Publish hands ev to the producer, which owns it from now on. It never
// waits on Kafka: the event goes to the in-memory queue, or, while the
// producer is spooling or the queue is full, it is appended to the
// (buffered) spool.
func (p *Producer) Publish(ev *events.Announce) {
	if ev == nil {
		return
	}
	p.published.Add(1)
	if p.spoolingHint.Load() {
		p.publishSpooled(ev)
		return
	}
	p.mu.Lock()
	if p.spooling || p.closed {
		p.mu.Unlock()
		p.publishSpooled(ev)
		return
	}
	if p.pushLocked(ev) {
		return
	}
	p.startSpoolingLocked("in-memory queue full", nil)
	p.appendEventsLocked(ev)
	p.mu.Unlock()
	p.recycle(ev)
}

// publishSpooled encodes ev outside the lock, then appends it to the spool
// unless the producer went back to the queue meanwhile.
func (p *Producer) publishSpooled(ev *events.Announce) {
	fb := p.framePool.Get().(*[]byte)
	defer p.framePool.Put(fb)
	frame, err := appendRecord((*fb)[:0], ev)
	*fb = frame[:0]
	if err != nil {
		p.drop(1, fmt.Errorf("encode announce event: %w", err))
		p.recycle(ev)
		return
	}
	p.mu.Lock()
	switch {
	case p.closed:
		p.mu.Unlock()
		p.drop(1, errors.New("event published after Close"))
	case p.spooling:
		p.appendFramesLocked(frame, 1)
		p.mu.Unlock()
	case p.pushLocked(ev):
		return
	default:
		p.startSpoolingLocked("in-memory queue full", nil)
		p.appendFramesLocked(frame, 1)
		p.mu.Unlock()
	}
	p.recycle(ev)
}

// pushLocked queues ev. When it does, it also unlocks p.mu and wakes the
// writer if it waits; when the queue is full it returns false, still locked.
func (p *Producer) pushLocked(ev *events.Announce) bool {
	if !p.q.push(ev) {
		return false
	}
	wake := p.idle
	p.idle = false
	p.mu.Unlock()
	if wake {
		p.notify()
	}
	return true
}

// startSpoolingLocked switches to spooling: the queue goes to the spool in
// order (the writer's in-flight batch too; it may also reach Kafka, which
// makes duplicates of the same event ids) and later events follow it.
func (p *Producer) startSpoolingLocked(reason string, cause error) {
	p.spooling = true
	p.spoolingHint.Store(true)
	p.gen++
	n := p.q.n
	evs := make([]*events.Announce, 0, n)
	for i := range n {
		evs = append(evs, p.q.at(i))
	}
	p.appendEventsLocked(evs...)
	for _, ev := range evs[p.inflight:] {
		p.recycle(ev) // the writer recycles its in-flight batch itself
	}
	p.q.drop(n)
	p.inflight = 0
	p.log.Warn("stream: spooling events to disk", "reason", reason, "err", cause, "queued_events_spooled", n)
}

// appendEventsLocked encodes and appends events to the spool.
func (p *Producer) appendEventsLocked(evs ...*events.Announce) {
	b := p.frames[:0]
	n := 0
	for _, ev := range evs {
		var err error
		if b, err = appendRecord(b, ev); err != nil {
			p.drop(1, fmt.Errorf("encode announce event: %w", err))
			continue
		}
		n++
	}
	p.appendFramesLocked(b, n)
	if cap(b) <= 1<<20 {
		p.frames = b[:0]
	}
}

func (p *Producer) appendFramesLocked(b []byte, n int) {
	if n == 0 {
		return
	}
	if err := p.spool.append(b, n); err != nil {
		if errors.Is(err, errSpoolFull) {
			p.full.Store(true)
		}
		p.drop(n, fmt.Errorf("append to event spool: %w", err))
		return
	}
	p.spooled.Add(uint64(n))
}

func (p *Producer) drop(n int, err error) {
	p.dropped.Add(uint64(n))
	now := time.Now().UnixNano()
	last := p.lastDropLog.Load()
	if now-last >= int64(10*time.Second) && p.lastDropLog.CompareAndSwap(last, now) {
		p.log.Error("stream: events lost", "events", n, "dropped_total", p.dropped.Load(), "err", err)
	}
}

func (p *Producer) recycle(ev *events.Announce) {
	if p.cfg.Recycle != nil {
		p.cfg.Recycle(ev)
	}
}

func (p *Producer) notify() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

func (p *Producer) queueLen() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.q.n
}

// Stats returns a snapshot of the counters.
func (p *Producer) Stats() Stats {
	p.mu.Lock()
	st := Stats{Queued: p.q.n, Spooling: p.spooling}
	p.mu.Unlock()
	st.SpoolRecords, st.SpoolBytes = p.spool.depth()
	st.Published = p.published.Load()
	st.Produced = p.produced.Load()
	st.Spooled = p.spooled.Load()
	st.Replayed = p.replayed.Load()
	st.KafkaErrors = p.kafkaErrors.Load()
	st.Dropped = p.dropped.Load()
	return st
}

// Ready reports an error while the producer cannot keep events: the spool
// is full or failing. Serve it on /readyz so the balancer drains traffic.
func (p *Producer) Ready() error {
	if err := p.spool.err(); err != nil {
		return fmt.Errorf("event spool failing: %w", err)
	}
	if p.full.Load() {
		return fmt.Errorf("event spool full (%d bytes max) while Kafka is unreachable", p.cfg.SpoolMaxBytes)
	}
	return nil
}

// Close stops the producer: the queue is written to Kafka, or to the spool
// if Kafka fails or ctx ends first; the spool is flushed, fsynced and
// closed. When Close returns, every event accepted by Publish is on Kafka
// or in the spool. Stop the request path before calling Close: later
// events are dropped (and counted).
func (p *Producer) Close(ctx context.Context) error {
	p.closeOnce.Do(func() {
		stop := context.AfterFunc(ctx, p.abort)
		defer stop()
		p.mu.Lock()
		p.closing = true
		p.mu.Unlock()
		close(p.closeCh)
		<-p.done // once writes are aborted, only disk work remains
		p.abort()
		bgDone := make(chan struct{})
		go func() { p.bg.Wait(); close(bgDone) }()
		select {
		case <-bgDone:
		case <-ctx.Done():
			p.log.Warn("stream: abandoned Kafka writers still closing at the Close deadline")
		}
		st := p.Stats()
		p.log.Info("stream: closed", "published", st.Published, "produced", st.Produced,
			"spooled", st.Spooled, "spool_pending", st.SpoolRecords, "dropped", st.Dropped)
		p.closeErr = p.spool.close()
	})
	return p.closeErr
}

// flusher flushes and fsyncs spool appends every SpoolFsyncInterval.
func (p *Producer) flusher() {
	defer p.bg.Done()
	t := time.NewTicker(p.cfg.SpoolFsyncInterval)
	defer t.Stop()
	var logged bool
	for {
		select {
		case <-p.done:
			return
		case <-t.C:
		}
		if err := p.spool.sync(); err != nil && !logged {
			logged = true
			p.log.Error("stream: event spool sync failed", "err", err)
		}
	}
}
