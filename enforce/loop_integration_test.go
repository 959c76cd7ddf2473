package enforce_test

import (
	"context"
	"testing"
	"time"

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
