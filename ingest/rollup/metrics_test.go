package rollup

import (
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// The lag counts from the start of the last successful refresh; a failed
// refresh does not move it.
func TestMetricsLag(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	m.now = func() time.Time { return now }
	if got := m.Lag(); got != -1 {
		t.Errorf("lag before any refresh: %v, want -1", got)
	}
	m.observe(now.Add(-40*time.Second), Result{Rebuilt: 3, Took: 10 * time.Second}, nil)
	if got := m.Lag(); got != 40 {
		t.Errorf("lag: %v, want 40", got)
	}
	m.observe(now.Add(-5*time.Second), Result{Rebuilt: 1, Took: time.Second}, errors.New("clickhouse down"))
	if got := m.Lag(); got != 40 {
		t.Errorf("lag after a failed refresh: %v, want still 40", got)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, x := range mf.GetMetric() {
			switch {
			case x.Counter != nil:
				got[mf.GetName()] += x.Counter.GetValue()
			case x.Gauge != nil:
				got[mf.GetName()] = x.Gauge.GetValue()
			case x.Histogram != nil:
				got[mf.GetName()] += float64(x.Histogram.GetSampleCount())
			}
		}
	}
	if got["ratioguard_rollup_rebuilt_total"] != 4 || got["ratioguard_rollup_refresh_seconds"] != 2 || got["ratioguard_rollup_lag_seconds"] != 40 {
		t.Errorf("exported %v, want 4 rebuilt, 2 refreshes, lag 40", got)
	}
	var nilMetrics *Metrics
	nilMetrics.observe(now, Result{}, nil) // records nothing, no panic
}
