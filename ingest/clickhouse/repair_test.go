package clickhouse_test

import (
	"context"
	"testing"
	"time"

	"github.com/ratioguard/ratioguard/ingest/clickhouse"
	"github.com/ratioguard/ratioguard/ingest/ingesttest"
	"github.com/ratioguard/ratioguard/internal/testenv"
)

// A view's part lost or doubled (what a server crash mid-INSERT leaves) is
// found by SuspectMonths and undone by RebuildViews, from the raw table.
func TestRebuildViewsRepairsLostAndDoubledParts(t *testing.T) {
	ch := testenv.ClickHouse(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ds := ingesttest.NewDataset(4, 3000, 40, 30, 0, 0)
	l := clickhouse.New(ch.Conn, ch.Database, nil)
	for i, b := range batches(t, ds, 1000) {
		if err := l.Store(ctx, b); err != nil {
			t.Fatalf("store batch %d: %v", i, err)
		}
	}
	if m, err := clickhouse.SuspectMonths(ctx, ch.Conn); err != nil || len(m) != 0 {
		t.Fatalf("suspect months after a clean load: %v, %v", m, err)
	}
	for _, q := range []string{
		"ALTER TABLE user_network_hour DELETE WHERE user_id % 2 = 0", // a lost part
		"INSERT INTO announce_ids (event_id, time, kafka_partition, kafka_offset) " + // a doubled one
			"SELECT event_id, time, kafka_partition, kafka_offset FROM announces WHERE user_id = 3",
	} {
		if err := ch.Conn.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	for pending := uint64(1); pending > 0; time.Sleep(50 * time.Millisecond) { // the mutation runs in the background
		if err := ch.Conn.QueryRow(ctx, "SELECT count() FROM system.mutations WHERE database = currentDatabase() AND is_done = 0").Scan(&pending); err != nil {
			t.Fatal(err)
		}
	}
	months, err := clickhouse.SuspectMonths(ctx, ch.Conn)
	if err != nil || len(months) == 0 {
		t.Fatalf("suspect months after damage: %v, %v", months, err)
	}
	if err := ingesttest.CheckClickHouse(ctx, ch.Conn, ds.Truth); err == nil {
		t.Fatal("the damage is not visible to the check")
	}
	if err := clickhouse.RebuildViews(ctx, ch.Conn, months); err != nil {
		t.Fatal(err)
	}
	if m, err := clickhouse.SuspectMonths(ctx, ch.Conn); err != nil || len(m) != 0 {
		t.Errorf("suspect months after the rebuild: %v, %v", m, err)
	}
	if err := ingesttest.CheckClickHouse(ctx, ch.Conn, ds.Truth); err != nil {
		t.Error(err)
	}
}
