package detectors

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func TestMetricsObservePasses(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg, []string{"faked_upload", "multi_ip"})
	if err != nil {
		t.Fatal(err)
	}
	m.Observe("scheduler", 2*time.Second, []RunStats{
		{Detector: "faked_upload", Findings: 5, Inserted: 3, Duration: time.Second},
		{Detector: "multi_ip", Findings: 1, Inserted: 0, Duration: 500 * time.Millisecond, Err: "timeout"},
		{Detector: "account_selling", Skipped: true},
	}, nil)
	m.Observe("scheduler:periodic", time.Minute, nil, errors.New("clickhouse down"))
	got := map[string]float64{}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, x := range mf.GetMetric() {
			key := mf.GetName()
			for _, l := range x.GetLabel() {
				key += "," + l.GetValue()
			}
			switch {
			case x.Counter != nil:
				got[key] = x.Counter.GetValue()
			case x.Histogram != nil:
				got[key] = float64(x.Histogram.GetSampleCount())
			}
		}
	}
	for key, want := range map[string]float64{
		"ratioguard_detect_reports_opened_total,faked_upload":     3,
		"ratioguard_detect_reports_opened_total,multi_ip":         0,
		"ratioguard_detect_findings_total,faked_upload":           5,
		"ratioguard_detect_detector_failures_total,multi_ip":      1,
		"ratioguard_detect_detector_seconds,faked_upload":         1,
		"ratioguard_detect_passes_total,ok,scheduler":             1,
		"ratioguard_detect_passes_total,error,scheduler:periodic": 1,
		"ratioguard_detect_pass_seconds,scheduler:periodic":       1,
	} {
		if v, ok := got[key]; !ok || v != want {
			t.Errorf("%s = %v (exported: %v), want %v", key, v, ok, want)
		}
	}
	if _, ok := got["ratioguard_detect_detector_seconds,account_selling"]; ok {
		t.Error("a skipped detector was timed")
	}
	if err := m.Ready(); err == nil || !strings.Contains(err.Error(), "scheduler:periodic: last pass failed: clickhouse down") || strings.Contains(err.Error(), "scheduler: ") {
		t.Errorf("Ready: %v", err)
	}
	m.Observe("scheduler:periodic", time.Minute, nil, nil)
	if err := m.Ready(); err != nil {
		t.Errorf("Ready after a good pass: %v", err)
	}
}
