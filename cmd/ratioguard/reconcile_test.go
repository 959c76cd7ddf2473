package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ratioguard/ratioguard/ingest/reconcile"
	"github.com/ratioguard/ratioguard/internal/testenv"
)

// reconcile: rollup hours the builder has not built are lag (listed, exit
// 0), rebuilt by --refresh-rollups; a rollup sum that is wrong while its
// count is right is a difference (exit non-zero).
func TestReconcileRollupLagAndDifferences(t *testing.T) {
	pg, ch := testenv.Postgres(t), testenv.ClickHouse(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	hour := time.Now().UTC().Truncate(time.Hour)
	batch, err := ch.Conn.PrepareBatch(ctx, "INSERT INTO announces (event_id, time, user_id, torrent_id, delta_uploaded, result)")
	if err == nil {
		err = batch.Append("0123456789abcdef", hour.Add(time.Minute), uint64(7), uint64(9), uint64(1000), "accepted")
	}
	if err == nil {
		err = batch.Send()
	}
	if err != nil {
		t.Fatal(err)
	}
	engines := []string{"--postgres-url", pg.URL, "--clickhouse-url", ch.URL, "--wait", "1s"}
	reconcileJSON := func(args ...string) (reconcile.Report, error) {
		t.Helper()
		env, out, _ := testEnv()
		err := runReconcile(ctx, env, append(append([]string{"--json"}, engines...), args...))
		var rep reconcile.Report
		if jerr := json.Unmarshal(out.Bytes(), &rep); jerr != nil {
			t.Fatalf("stdout is not a report: %v\n%s", jerr, out)
		}
		return rep, err
	}

	rep, err := reconcileJSON("--refresh-rollups=false")
	if err != nil || len(rep.Diffs) != 0 || len(rep.RollupLag) != 1 || !rep.RollupLag[0].Hour.Equal(hour) || rep.RollupLag[0].RawRows != 1 || rep.RollupsRebuilt != 0 {
		t.Fatalf("without refresh: %+v, %v; want the hour listed as lag, no difference, exit 0", rep, err)
	}
	rep, err = reconcileJSON()
	if err != nil || len(rep.Diffs) != 0 || len(rep.RollupLag) != 0 || rep.RollupsRebuilt != 3 {
		t.Fatalf("with refresh: %+v, %v; want the hour's three rollups rebuilt", rep, err)
	}

	if err := ch.Conn.Exec(ctx, "INSERT INTO user_hour (user_id, hour, delta_uploaded) SELECT toUInt64(7), toDateTime(?), sumState(toUInt64(5))", hour.Unix()); err != nil {
		t.Fatal(err)
	}
	env, out, _ := testEnv()
	err = runReconcile(ctx, env, engines)
	if err == nil || !strings.Contains(out.String(), "rollup user 7 raw_uploaded: user_hour 1005, raw 1000 (+5)") {
		t.Fatalf("after a wrong rollup sum: %v\n%s", err, out)
	}
}
