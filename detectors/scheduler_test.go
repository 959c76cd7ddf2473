package detectors

import (
	"context"
	"testing"
	"time"

	"github.com/ratioguard/ratioguard/internal/testenv"
)

// hourly is a Periodic stub that records the windows it ran over.
type hourly struct{ runs *[]Window }

func (hourly) Name() string                   { return "hourly_stub" }
func (hourly) Doc() Doc                       { return Doc{} }
func (hourly) Lookback(*Config) time.Duration { return 24 * time.Hour }
func (hourly) Cadence(*Config) time.Duration  { return time.Hour }
func (h hourly) Run(_ context.Context, _ *Env, w Window) ([]Finding, error) {
	*h.runs = append(*h.runs, w)
	return nil, nil
}

// A periodic detector runs in the first scheduled pass after its boundary
// and not again in the next one, whose re-read of the previous step (ingest
// lag) starts before the boundary too; that one run takes every member
// active since the previous boundary less the re-read step.
func TestSchedulerRunsPeriodicOncePerBoundary(t *testing.T) {
	pg := testenv.Postgres(t)
	ctx := context.Background()
	var runs []Window
	r, err := NewRunner(ctx, DefaultConfig(), pg.Pool, nil, nil, []Detector{hourly{&runs}})
	if err != nil {
		t.Fatal(err)
	}
	r.Torrents = nil // no ClickHouse in this test
	s := &Scheduler{Runner: r, Interval: 5 * time.Minute}
	// h is the stub's boundary in the 13:00 hour (its offset past the hour).
	h := time.Date(2025, 6, 29, 13, 0, 0, 0, time.UTC).Add(CadenceOffset(hourly{}.Name(), time.Hour))
	for _, at := range []time.Duration{-8, -3, 2, 7, 12, 57, 62, 67} { // minutes from h
		if _, err := s.Once(ctx, h.Add(at*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	var got []time.Time
	for _, w := range runs {
		got = append(got, w.Until)
	}
	want := []time.Time{h.Add(-8 * time.Minute), h.Add(2 * time.Minute), h.Add(62 * time.Minute)}
	if len(got) != len(want) {
		t.Fatalf("ran at %v, want %v (the full pass, then once per hour)", got, want)
	}
	for i := range want {
		if !got[i].Equal(want[i]) {
			t.Fatalf("ran at %v, want %v", got, want)
		}
	}
	if since := runs[1].ActiveSince; !since.Equal(h.Add(-65 * time.Minute)) {
		t.Errorf("h+2m's run: members active since %v, want h-65m (the previous boundary and the re-read step)", since)
	}
	if since := runs[2].ActiveSince; !since.Equal(h.Add(-5 * time.Minute)) {
		t.Errorf("h+62m's run: members active since %v, want h-5m", since)
	}
}
