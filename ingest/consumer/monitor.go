package consumer

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Monitor records what the consumers of one process do, for the operations
// endpoints (internal/ops): consumer lag per partition, batch sizes, store
// latency and failures, dead letters; and whether each sink is storing
// (Ready). One Monitor serves every sink of the process; a nil *Monitor
// records nothing.
type Monitor struct {
	batchEvents  *prometheus.HistogramVec
	storeSeconds *prometheus.HistogramVec
	storeErrors  *prometheus.CounterVec
	stored       *prometheus.CounterVec
	deadLetters  *prometheus.CounterVec
	lagDesc      *prometheus.Desc

	mu        sync.Mutex
	consumers map[*consumer]struct{}
	state     map[string]string // sink → why it is not storing ("" : storing)
}

// Names are a Monitor's metric names: each stage that consumes the topic
// has its own, so that several share one registry (`ratioguard all`).
type Names struct {
	BatchRecords, StoreSeconds, StoreErrors, RecordsStored, DeadLetters, ConsumerLag string
}

// IngestNames are the ingest stage's (ClickHouse loader and ledger).
func IngestNames() Names {
	return Names{
		BatchRecords:  "ratioguard_ingest_batch_records",
		StoreSeconds:  "ratioguard_ingest_store_seconds",
		StoreErrors:   "ratioguard_ingest_store_errors_total",
		RecordsStored: "ratioguard_ingest_records_stored_total",
		DeadLetters:   "ratioguard_ingest_dead_letters_total",
		ConsumerLag:   "ratioguard_ingest_consumer_lag",
	}
}

// NewMonitor registers the ingest stage's consumer metrics on reg.
func NewMonitor(reg prometheus.Registerer) (*Monitor, error) {
	return NewNamedMonitor(reg, IngestNames())
}

// NewNamedMonitor registers the consumers' metrics on reg under names.
func NewNamedMonitor(reg prometheus.Registerer, names Names) (*Monitor, error) {
	m := &Monitor{
		batchEvents: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    names.BatchRecords,
			Help:    "Records per stored batch (events and dead letters), by sink.",
			Buckets: prometheus.ExponentialBuckets(10, 4, 9), // 10 … 655,360
		}, []string{"sink"}),
		storeSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    names.StoreSeconds,
			Help:    "Time of one attempt to store a batch in the sink's engine, by sink and result.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2.5, 10), // 5 ms … 19 s
		}, []string{"sink", "result"}),
		storeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: names.StoreErrors,
			Help: "Failed attempts to store a batch (retried until stored), by sink.",
		}, []string{"sink"}),
		stored: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: names.RecordsStored,
			Help: "Records stored (their offsets with them), by sink.",
		}, []string{"sink"}),
		deadLetters: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: names.DeadLetters,
			Help: "Undecodable messages written to the dead-letter topic, by sink.",
		}, []string{"sink"}),
		lagDesc: prometheus.NewDesc(names.ConsumerLag,
			"Messages of a partition not yet stored by the sink: the partition's end offset (last fetch, or asked of the broker every few seconds) minus the sink's stored offset.",
			[]string{"sink", "topic", "partition"}, nil),
		consumers: map[*consumer]struct{}{},
		state:     map[string]string{},
	}
	for _, c := range []prometheus.Collector{m.batchEvents, m.storeSeconds, m.storeErrors, m.stored, m.deadLetters, m} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register consumer metrics %s: %w", names.ConsumerLag, err)
		}
	}
	return m, nil
}

// Describe implements prometheus.Collector (the lag gauge).
func (m *Monitor) Describe(ch chan<- *prometheus.Desc) { ch <- m.lagDesc }

// Collect implements prometheus.Collector: one lag gauge per partition
// assigned to a consumer of this process.
func (m *Monitor) Collect(ch chan<- prometheus.Metric) {
	m.mu.Lock()
	cs := make([]*consumer, 0, len(m.consumers))
	for c := range m.consumers {
		cs = append(cs, c)
	}
	m.mu.Unlock()
	for _, c := range cs {
		c.mu.Lock()
		for p, w := range c.workers {
			hw, stored := w.highWater.Load(), w.storedAt.Load()
			if hw < 0 {
				continue // nothing fetched yet
			}
			ch <- prometheus.MustNewConstMetric(m.lagDesc, prometheus.GaugeValue, float64(max(hw-max(stored, 0), 0)),
				c.sink.Name(), c.cfg.Topic, strconv.Itoa(int(p)))
		}
		c.mu.Unlock()
	}
}

// Waiting records that sink is not consuming yet, and why (its engine is
// down at start).
func (m *Monitor) Waiting(sink, why string) {
	if m == nil {
		return
	}
	m.mu.Lock()
	m.state[sink] = why
	m.mu.Unlock()
}

// Ready says which sinks are not storing: waiting for their engine at
// start, or failing to store their last batch.
func (m *Monitor) Ready() error {
	if m == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	sinks := make([]string, 0, len(m.state))
	for s, why := range m.state {
		if why != "" {
			sinks = append(sinks, s)
		}
	}
	sort.Strings(sinks)
	var errs []error
	for _, s := range sinks {
		errs = append(errs, fmt.Errorf("%s sink: %s", s, m.state[s]))
	}
	return errors.Join(errs...)
}

func (m *Monitor) add(c *consumer) {
	if m == nil {
		return
	}
	m.mu.Lock()
	m.consumers[c] = struct{}{}
	m.state[c.sink.Name()] = ""
	m.mu.Unlock()
	// Resolve the sink's series now: they are exported (at 0) before the
	// first batch.
	s := c.sink.Name()
	m.stored.WithLabelValues(s)
	m.storeErrors.WithLabelValues(s)
	m.deadLetters.WithLabelValues(s)
}

func (m *Monitor) remove(c *consumer) {
	if m == nil {
		return
	}
	m.mu.Lock()
	delete(m.consumers, c)
	m.mu.Unlock()
}

// attempt records one attempt to store b.
func (m *Monitor) attempt(sink string, took time.Duration, err error) {
	if m == nil {
		return
	}
	result := "ok"
	if err != nil {
		result = "error"
		m.storeErrors.WithLabelValues(sink).Inc()
	}
	m.storeSeconds.WithLabelValues(sink, result).Observe(took.Seconds())
	why := ""
	if err != nil && !errors.Is(err, ErrFenced) {
		why = "storing a batch fails: " + err.Error()
	}
	m.mu.Lock()
	m.state[sink] = why
	m.mu.Unlock()
}

// storedBatch records a stored batch.
func (m *Monitor) storedBatch(sink string, b *Batch) {
	if m == nil {
		return
	}
	n := b.Len()
	m.batchEvents.WithLabelValues(sink).Observe(float64(n))
	m.stored.WithLabelValues(sink).Add(float64(n))
}

// deadLettered records dead letters written.
func (m *Monitor) deadLettered(sink string, n int) {
	if m == nil {
		return
	}
	m.deadLetters.WithLabelValues(sink).Add(float64(n))
}

// partitionState is what a worker publishes for the lag gauge.
type partitionState struct {
	highWater atomic.Int64 // highest end offset seen by a fetch or asked of the broker (-1: none yet)
	storedAt  atomic.Int64 // next offset the sink has stored (-1: none)
}

// raiseHighWater records an end offset; it never goes down.
func (p *partitionState) raiseHighWater(end int64) {
	for {
		cur := p.highWater.Load()
		if end <= cur || p.highWater.CompareAndSwap(cur, end) {
			return
		}
	}
}
