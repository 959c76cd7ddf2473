package stream

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// registerMetrics exposes the producer's counters and gauges on reg (nil:
// not exposed). Counters and gauges read the producer's own state, so
// Stats and /metrics never disagree.
func (p *Producer) registerMetrics(reg prometheus.Registerer) error {
	p.batchSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "ratioguard_stream_batch_seconds",
		Help:    "Duration of one synchronous Kafka write (a batch of events), successful or not.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	})
	if reg == nil {
		return nil
	}
	counter := func(name, help string, f func() uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help},
			func() float64 { return float64(f()) })
	}
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f)
	}
	cs := []prometheus.Collector{
		p.batchSeconds,
		counter("ratioguard_stream_events_published_total", "Events handed to the producer by the tracker.", p.published.Load),
		counter("ratioguard_stream_events_produced_total", "Events acknowledged by Kafka (directly or replayed from the spool; a replay may count an event twice).", p.produced.Load),
		counter("ratioguard_stream_kafka_errors_total", "Failed Kafka writes (each sends its batch to the spool or delays a replay).", p.kafkaErrors.Load),
		counter("ratioguard_stream_spool_writes_total", "Events appended to the disk spool.", p.spooled.Load),
		counter("ratioguard_stream_replayed_total", "Events replayed from the disk spool to Kafka.", p.replayed.Load),
		counter("ratioguard_stream_events_dropped_total", "Events lost: spool full or failing, or published after Close.", p.dropped.Load),
		gauge("ratioguard_stream_queue_depth", "Events in the in-memory queue.", func() float64 { return float64(p.queueLen()) }),
		gauge("ratioguard_stream_spool_records", "Events in the disk spool not yet acknowledged by Kafka.", func() float64 {
			r, _ := p.spool.depth()
			return float64(r)
		}),
		gauge("ratioguard_stream_spool_bytes", "Bytes of the disk spool not yet acknowledged by Kafka.", func() float64 {
			_, b := p.spool.depth()
			return float64(b)
		}),
		gauge("ratioguard_stream_spooling", "1 while events go to the disk spool (Kafka failing, queue overflow, replay), 0 in direct mode.", func() float64 {
			if p.spoolingHint.Load() {
				return 1
			}
			return 0
		}),
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("register stream metrics: %w", err)
		}
	}
	return nil
}
