package detectors

import (
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics records the scheduled passes for the operations endpoints
// (internal/ops): each pass's duration and result per scheduler, each
// detector's duration, findings, reports opened and failures; Ready says
// which scheduler's last pass failed. A nil *Metrics records nothing.
type Metrics struct {
	pass     *prometheus.HistogramVec
	passes   *prometheus.CounterVec
	lastOK   *prometheus.GaugeVec
	detector *prometheus.HistogramVec
	findings *prometheus.CounterVec
	opened   *prometheus.CounterVec
	failed   *prometheus.CounterVec

	mu      sync.Mutex
	lastErr map[string]error // scheduler → its last pass's error
}

// NewMetrics registers the detector metrics on reg, with a zero series for
// each of the detectors named.
func NewMetrics(reg prometheus.Registerer, detectors []string) (*Metrics, error) {
	secs := prometheus.ExponentialBuckets(0.05, 2.5, 12) // 50 ms … 20 min
	m := &Metrics{
		pass: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "ratioguard_detect_pass_seconds", Help: "Time of one scheduled pass (every detector of the scheduler), by scheduler.", Buckets: secs,
		}, []string{"scheduler"}),
		passes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ratioguard_detect_passes_total", Help: "Scheduled passes, by scheduler and result (ok, error).",
		}, []string{"scheduler", "result"}),
		lastOK: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "ratioguard_detect_last_success_timestamp_seconds", Help: "When the scheduler's last successful pass ended (Unix time).",
		}, []string{"scheduler"}),
		detector: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "ratioguard_detect_detector_seconds", Help: "Time of one detector in a pass, by detector.", Buckets: secs,
		}, []string{"detector"}),
		findings: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ratioguard_detect_findings_total", Help: "Findings, by detector (before exemptions and suppression).",
		}, []string{"detector"}),
		opened: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ratioguard_detect_reports_opened_total", Help: "Cheat reports opened, by detector.",
		}, []string{"detector"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ratioguard_detect_detector_failures_total", Help: "Detector runs that failed, by detector.",
		}, []string{"detector"}),
		lastErr: map[string]error{},
	}
	for _, c := range []prometheus.Collector{m.pass, m.passes, m.lastOK, m.detector, m.findings, m.opened, m.failed} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register detector metrics: %w", err)
		}
	}
	for _, d := range detectors {
		m.findings.WithLabelValues(d)
		m.opened.WithLabelValues(d)
		m.failed.WithLabelValues(d)
	}
	return m, nil
}

// Observe records one pass of scheduler that took took.
func (m *Metrics) Observe(scheduler string, took time.Duration, stats []RunStats, err error) {
	if m == nil {
		return
	}
	m.pass.WithLabelValues(scheduler).Observe(took.Seconds())
	result := "ok"
	if err != nil {
		result = "error"
	} else {
		m.lastOK.WithLabelValues(scheduler).Set(float64(time.Now().Unix()))
	}
	m.passes.WithLabelValues(scheduler, result).Inc()
	for _, s := range stats {
		if s.Skipped {
			continue
		}
		m.detector.WithLabelValues(s.Detector).Observe(s.Duration.Seconds())
		m.findings.WithLabelValues(s.Detector).Add(float64(s.Findings))
		m.opened.WithLabelValues(s.Detector).Add(float64(s.Inserted))
		if s.Err != "" {
			m.failed.WithLabelValues(s.Detector).Inc()
		}
	}
	m.mu.Lock()
	m.lastErr[scheduler] = err
	m.mu.Unlock()
}

// Ready names the schedulers whose last pass failed.
func (m *Metrics) Ready() error {
	if m == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	names := make([]string, 0, len(m.lastErr))
	for s, err := range m.lastErr {
		if err != nil {
			names = append(names, s)
		}
	}
	sort.Strings(names)
	var errs []error
	for _, s := range names {
		errs = append(errs, fmt.Errorf("%s: last pass failed: %w", s, m.lastErr[s]))
	}
	return errors.Join(errs...)
}
