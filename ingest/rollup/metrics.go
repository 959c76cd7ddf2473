package rollup

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics records the builder's refreshes for the operations endpoints
// (internal/ops). The rollup lag is how old the newest state of the raw
// table the rollups are known to equal is: a successful refresh rebuilds
// every hour that differed when it started, so after it the lag is the
// time since it started. A nil *Metrics records nothing.
type Metrics struct {
	refresh  *prometheus.HistogramVec
	rebuilt  prometheus.Counter
	lastGood atomic.Int64 // Unix nanoseconds: start of the last successful refresh (0: none)
	now      func() time.Time
}

// NewMetrics registers the rollup metrics on reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		refresh: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "ratioguard_rollup_refresh_seconds",
			Help:    "Time of one rollup refresh (compare the hours, rebuild the stale ones), by result.",
			Buckets: prometheus.ExponentialBuckets(0.05, 2.5, 10), // 50 ms … 190 s
		}, []string{"result"}),
		rebuilt: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ratioguard_rollup_rebuilt_total",
			Help: "(hour, rollup) pairs rebuilt from the raw table.",
		}),
		now: time.Now,
	}
	lag := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "ratioguard_rollup_lag_seconds",
		Help: "Seconds since the start of the last successful refresh: the rollups equal the raw table as of then (-1: none yet).",
	}, m.Lag)
	for _, c := range []prometheus.Collector{m.refresh, m.rebuilt, lag} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register rollup metrics: %w", err)
		}
	}
	return m, nil
}

// Lag is the rollup lag in seconds, -1 before the first successful refresh.
func (m *Metrics) Lag() float64 {
	t := m.lastGood.Load()
	if t == 0 {
		return -1
	}
	return m.now().Sub(time.Unix(0, t)).Seconds()
}

// observe records a refresh that started at start.
func (m *Metrics) observe(start time.Time, res Result, err error) {
	if m == nil {
		return
	}
	m.rebuilt.Add(float64(res.Rebuilt))
	if err != nil {
		m.refresh.WithLabelValues("error").Observe(res.Took.Seconds())
		return
	}
	m.refresh.WithLabelValues("ok").Observe(res.Took.Seconds())
	m.lastGood.Store(start.UnixNano())
}
