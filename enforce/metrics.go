package enforce

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ratioguard/ratioguard/enforce/store"
)

// Metrics records the enforcement passes of a Loop for the operations
// endpoints (internal/ops): changes per rule and outcome, each pass's
// duration and result, the members evaluated; Ready says whether the last
// pass failed. A nil *Metrics records nothing.
type Metrics struct {
	changes *prometheus.CounterVec
	pass    *prometheus.HistogramVec
	members prometheus.Gauge
	lastOK  prometheus.Gauge

	mu      sync.Mutex
	lastErr error
}

// NewMetrics registers the enforcement metrics on reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		changes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ratioguard_enforce_changes_total",
			Help: "Enforcement changes carried out, by rule and outcome (applied, unchanged: already in place, failed).",
		}, []string{"rule", "outcome"}),
		pass: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "ratioguard_enforce_pass_seconds",
			Help:    "Time of one enforcement pass (load, plan, apply), by result (ok, error, locked: another run holds the lock).",
			Buckets: prometheus.ExponentialBuckets(0.05, 2.5, 12),
		}, []string{"result"}),
		members: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "ratioguard_enforce_members", Help: "Members the last pass evaluated.",
		}),
		lastOK: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "ratioguard_enforce_last_success_timestamp_seconds", Help: "When the last successful pass ended (Unix time).",
		}),
	}
	for _, c := range []prometheus.Collector{m.changes, m.pass, m.members, m.lastOK} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register enforcement metrics: %w", err)
		}
	}
	return m, nil
}

// change records the outcome of one change.
func (m *Metrics) change(c store.Change, outcome string) {
	if m == nil {
		return
	}
	rule := "unknown"
	if rows := c.Rows(); len(rows) > 0 && rows[0].Rule != "" {
		rule = rows[0].Rule
	}
	m.changes.WithLabelValues(rule, outcome).Inc()
}

// passDone records a pass that took took.
func (m *Metrics) passDone(res *Result, took time.Duration, err error) {
	if m == nil {
		return
	}
	result := "ok"
	switch {
	case errors.Is(err, ErrLocked):
		result, err = "locked", nil // another enforcer runs: nothing wrong here
	case err != nil:
		result = "error"
	default:
		m.lastOK.Set(float64(time.Now().Unix()))
		if res != nil {
			m.members.Set(float64(res.Members))
		}
	}
	m.pass.WithLabelValues(result).Observe(took.Seconds())
	m.mu.Lock()
	m.lastErr = err
	m.mu.Unlock()
}

// Ready reports the last pass's failure.
func (m *Metrics) Ready() error {
	if m == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.lastErr != nil {
		return fmt.Errorf("last pass failed: %w", m.lastErr)
	}
	return nil
}
