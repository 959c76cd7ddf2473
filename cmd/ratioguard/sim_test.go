package main

import (
	"context"
	"encoding/json"
	"testing"
	"time"
)

// sim replay --end-now puts the simulated run right before the present: the
// history a live demo imports before its live traffic.
func TestSimReplayEndNow(t *testing.T) {
	env, out, errb := testEnv()
	before := time.Now().Truncate(time.Second)
	code := run(context.Background(), env, []string{"sim", "replay", "--spec", "../../sim/specs/small.yaml", "--days", "1", "--end-now", "--dry-run", "--json"})
	after := time.Now()
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var res struct {
		SimStart  time.Time `json:"sim_start"`
		SimEnd    time.Time `json:"sim_end"`
		Announces int       `json:"announces"`
	}
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("decode %q: %v", out.String(), err)
	}
	if res.SimEnd.Before(before) || res.SimEnd.After(after) {
		t.Errorf("sim_end %s, want between %s and %s", res.SimEnd, before, after)
	}
	if got := res.SimEnd.Sub(res.SimStart); got != 24*time.Hour {
		t.Errorf("simulated length %s, want 24h", got)
	}
	if res.Announces == 0 {
		t.Error("no announces")
	}
}
