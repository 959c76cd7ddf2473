package frontend

import (
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ratioguard/ratioguard/schemas/events"
	"github.com/ratioguard/ratioguard/tracker/core"
)

// metrics of the announce path; counters are resolved once, not per request.
type metrics struct {
	accepted prometheus.Counter
	refused  map[events.Refusal]prometheus.Counter
	latency  prometheus.Histogram
	scrapes  prometheus.Counter
	panics   prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, c *core.Core) (*metrics, error) {
	announces := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ratioguard_tracker_announces_total",
		Help: "Announces answered, by result and refusal reason.",
	}, []string{"result", "refusal"})
	m := &metrics{
		accepted: announces.WithLabelValues("accepted", "none"),
		refused:  map[events.Refusal]prometheus.Counter{},
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "ratioguard_tracker_announce_seconds",
			Help:    "Time to answer an announce (parse, core, encode).",
			Buckets: []float64{25e-6, 50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3, 50e-3},
		}),
		scrapes: prometheus.NewCounter(prometheus.CounterOpts{Name: "ratioguard_tracker_scrapes_total", Help: "Scrapes answered."}),
		panics:  prometheus.NewCounter(prometheus.CounterOpts{Name: "ratioguard_tracker_panics_total", Help: "Requests that panicked (answered with a failure reason)."}),
	}
	for code, name := range events.Refusal_name {
		if code != 0 {
			m.refused[events.Refusal(code)] = announces.WithLabelValues("refused", name)
		}
	}
	gauge := func(name, help string, f func(core.Stats) int) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 { return float64(f(c.Stats())) })
	}
	for _, col := range []prometheus.Collector{
		announces, m.latency, m.scrapes, m.panics,
		gauge("ratioguard_tracker_peers", "Peers in memory.", func(s core.Stats) int { return s.Peers }),
		gauge("ratioguard_tracker_seeders", "Seeders in memory.", func(s core.Stats) int { return s.Seeders }),
		gauge("ratioguard_tracker_torrents", "Torrents with at least one peer.", func(s core.Stats) int { return s.Torrents }),
		gauge("ratioguard_tracker_active_users", "Members with an active location.", func(s core.Stats) int { return s.Users }),
	} {
		if err := reg.Register(col); err != nil {
			return nil, fmt.Errorf("register tracker metrics: %w", err)
		}
	}
	return m, nil
}

func (m *metrics) observe(a *core.Answer, d time.Duration) {
	if a.Failure == "" {
		m.accepted.Inc()
	} else if c := m.refused[a.Refusal]; c != nil {
		c.Inc()
	}
	m.latency.Observe(d.Seconds())
}
