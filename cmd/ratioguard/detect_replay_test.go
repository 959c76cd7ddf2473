package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/ratioguard/ratioguard/internal/testenv"
)

func TestDetectReplayStepNeedsAWindow(t *testing.T) {
	for _, args := range [][]string{
		{"detect", "--replay-step", "1h"},
		{"detect", "--replay-step", "1h", "--since", "2026-10-01T00:00:00Z"},
		{"detect", "--replay-step", "-1h", "--since", "2026-10-01T00:00:00Z", "--until", "2026-10-02T00:00:00Z"},
		{"detect", "--replay-step", "1h", "--since", "2026-10-01T00:00:00Z", "--until", "2026-10-02T00:00:00Z", "--active-since", "2026-10-01T12:00:00Z"},
	} {
		env, _, errb := testEnv()
		if code := run(context.Background(), env, args); code != 2 || !strings.Contains(errb.String(), "--replay-step") {
			t.Errorf("%v: exit %d, stderr %q; want a usage error", args, code, errb.String())
		}
	}
}

// --replay-step runs the scheduler's passes on a simulated clock: the first
// full, then one per step to --until (the last one shorter), every detector
// in each, account_selling at its hourly cadence; no scheduler state.
func TestDetectReplayStep(t *testing.T) {
	pg, ch := testenv.Postgres(t), testenv.ClickHouse(t)
	env, out, errb := testEnv()
	code := run(context.Background(), env, []string{"detect", "--postgres-url", pg.URL, "--clickhouse-url", ch.URL,
		"--replay-step", "20m", "--since", "2026-10-01T00:00:00Z", "--until", "2026-10-01T02:10:00Z", "--json",
		"--detectors", "faked_upload,multi_ip,account_selling"}) // the scheduling, not the detectors, is under test
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var tot replayTotals
	if err := json.Unmarshal(out.Bytes(), &tot); err != nil {
		t.Fatalf("decode %q: %v", out.String(), err)
	}
	if tot.Passes != 7 || tot.Step != "20m0s" || len(tot.Errors) != 0 { // 00:20, 00:40, …, 02:00, 02:10
		t.Fatalf("totals %+v", tot)
	}
	runs := map[string]replayDetectorSum{}
	for _, d := range tot.Detectors {
		runs[d.Detector] = d
	}
	// account_selling as its scheduler runs it: the full first pass, then the
	// passes that cross one of its boundaries (26m55s past the hour) since the
	// previous pass: 00:40 and 01:40; not 01:20 and 02:10, nor 01:00 and
	// 02:00, whose re-read step (active since the previous pass − 20m) reaches
	// back over the boundary.
	if fu, sell := runs["faked_upload"], runs["account_selling"]; fu.Runs != 7 || sell.Runs != 3 || sell.Skipped != 4 {
		t.Fatalf("faked_upload %+v, account_selling %+v", fu, sell)
	}
	var state int
	if err := pg.Pool.QueryRow(context.Background(), `SELECT count(*) FROM detector_state`).Scan(&state); err != nil {
		t.Fatal(err)
	}
	if state != 0 {
		t.Errorf("replay wrote %d detector_state rows", state)
	}
}
