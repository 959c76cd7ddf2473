package enforce_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ratioguard/ratioguard/enforce"
)

// The loop runs a pass per interval, each on the clock's current time, and
// stops cleanly when its context ends.
func TestLoopRunsPassesUntilCancelled(t *testing.T) {
	f := newFixture(t)
	u := belowRequirement(f, "pia")
	ctx, cancel := context.WithCancel(f.ctx)
	defer cancel()
	var results []*enforce.Result
	done := make(chan error, 1)
	go func() {
		done <- f.runner(false).Loop(ctx, 10*time.Millisecond, func(res *enforce.Result, err error) {
			if err != nil {
				t.Errorf("pass: %v", err)
			}
			results = append(results, res)
			f.clock.Advance(5 * 24 * time.Hour)
			if len(results) == 5 {
				cancel()
			}
		})
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(results) < 5 {
		t.Fatalf("%d passes", len(results))
	}
	// Day 0 watch, day 15 (fourth pass) leeching disabled.
	if results[0].Applied != 1 || results[3].Applied != 1 || results[1].Applied+results[2].Applied != 0 {
		t.Fatalf("applied per pass: %d %d %d %d", results[0].Applied, results[1].Applied, results[2].Applied, results[3].Applied)
	}
	if m := f.member(u); m.CanLeech {
		t.Fatalf("after the loop: %+v", m)
	}
	if n := f.count("enforce_runs WHERE finished_at IS NOT NULL"); n < 5 {
		t.Fatalf("%d finished runs recorded", n)
	}
	if _, err := f.runner(false).Once(f.ctx); err != nil {
		t.Fatalf("lock not released by the loop: %v", err)
	}
}

// The loop's metrics count each change by rule and outcome and each pass by
// result; the last pass's success makes it ready.
func TestLoopRecordsMetrics(t *testing.T) {
	f := newFixture(t)
	belowRequirement(f, "pia")
	reg := prometheus.NewRegistry()
	m, err := enforce.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	r, err := enforce.New(f.pg.Pool, enforce.Options{Config: f.cfg, Clock: f.clock, Metrics: m,
		Log: slog.New(slog.NewTextHandler(testWriter{f.t}, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(f.ctx)
	defer cancel()
	passes := 0
	if err := r.Loop(ctx, 10*time.Millisecond, func(_ *enforce.Result, err error) {
		if err != nil && ctx.Err() == nil {
			t.Errorf("pass: %v", err)
		}
		f.clock.Advance(5 * 24 * time.Hour)
		if passes++; passes == 4 {
			cancel()
		}
	}); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	applied, rules, okPasses := 0.0, map[string]bool{}, uint64(0)
	for _, mf := range mfs {
		for _, x := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range x.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			switch mf.GetName() {
			case "ratioguard_enforce_changes_total":
				if labels["outcome"] == "applied" {
					applied += x.Counter.GetValue()
					rules[labels["rule"]] = true
				}
			case "ratioguard_enforce_pass_seconds":
				if labels["result"] == "ok" {
					okPasses += x.Histogram.GetSampleCount()
				}
			}
		}
	}
	// Day 0 watch, day 15 leeching disabled: two applied changes.
	if applied != 2 || okPasses < 3 || rules["unknown"] || rules[""] {
		t.Errorf("applied %v (rules %v), ok passes %d; want 2 applied under named rules, at least 3 ok passes", applied, rules, okPasses)
	}
	if err := m.Ready(); err != nil {
		t.Errorf("Ready: %v", err)
	}
}
