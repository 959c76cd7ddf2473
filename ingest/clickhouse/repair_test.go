package clickhouse_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ratioguard/ratioguard/ingest/clickhouse"
	"github.com/ratioguard/ratioguard/ingest/consumer"
	"github.com/ratioguard/ratioguard/ingest/ingesttest"
	"github.com/ratioguard/ratioguard/internal/testenv"
)

// A ClickHouse crash between the raw part and the announce_ids part of one
// INSERT leaves the batch's raw rows without ids, and the batch is delivered
// again. The loader must re-derive the ids before its dedupe lookup, on a
// restart (Resume) and after a failed Store alike, so that nothing is
// inserted twice. The crash is reproduced exactly: the batch's raw rows are
// inserted with announce_ids_mv detached, its offset not stored.
func TestLoaderRederivesIDsACrashLeftOut(t *testing.T) {
	ch := testenv.ClickHouse(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ds := ingesttest.NewDataset(5, 6000, 60, 40, 9, 0)
	bs := batches(t, ds, 1000)
	if len(bs) < 6 {
		t.Fatalf("%d batches, want 6", len(bs))
	}
	// The rows every batch inserts, loaded once into a scratch database.
	scratch := testenv.ClickHouse(t)
	sl := clickhouse.New(scratch.Conn, scratch.Database, nil)
	for i, b := range bs {
		if err := sl.Store(ctx, b); err != nil {
			t.Fatalf("scratch store batch %d: %v", i, err)
		}
	}
	crash := func(b *consumer.Batch) { // the raw part of b's INSERT lands, its ids part does not
		t.Helper()
		cols := announceColumns(t, ctx, ch)
		for _, q := range []string{
			"DETACH TABLE announce_ids_mv",
			"INSERT INTO announces (" + cols + ") SELECT " + cols + " FROM " + scratch.Database + ".announces " +
				"WHERE kafka_partition = 0 AND kafka_offset >= " + strconv.FormatInt(max(b.Prev, 0), 10) + " AND kafka_offset < " + strconv.FormatInt(b.Next, 10),
			"ATTACH TABLE announce_ids_mv",
		} {
			if err := ch.Conn.Exec(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		if m, err := clickhouse.SuspectMonths(ctx, ch.Conn); err != nil || len(m) == 0 {
			t.Fatalf("SuspectMonths after the crash = %v, %v; want the batch's month", m, err)
		}
	}

	l := clickhouse.New(ch.Conn, ch.Database, nil)
	for _, b := range bs[:2] {
		if err := l.Store(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	// Crash in batch 2, then a restart: Resume, and batch 2 delivered again.
	// Meanwhile a merge folds the crashed part into the older ones.
	crash(bs[2])
	if err := ch.Conn.Exec(ctx, "OPTIMIZE TABLE announces FINAL"); err != nil {
		t.Fatal(err)
	}
	restarted := clickhouse.New(ch.Conn, ch.Database, nil)
	if got, err := restarted.Resume(ctx, "t", 0); err != nil || got != bs[2].Prev {
		t.Fatalf("Resume after the crash = %d, %v; want %d", got, err, bs[2].Prev)
	}
	for _, b := range bs[2:4] {
		if err := restarted.Store(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	// Crash in batch 4 without a restart: the Store failed (here: its
	// context ended) and is retried by the same loader.
	crash(bs[4])
	failed, stop := context.WithCancel(ctx)
	stop()
	if err := restarted.Store(failed, bs[4]); err == nil {
		t.Fatal("Store with an ended context succeeded")
	}
	for _, b := range bs[4:] {
		if err := restarted.Store(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	if m, err := clickhouse.SuspectMonths(ctx, ch.Conn); err != nil || len(m) != 0 {
		t.Errorf("SuspectMonths after the redeliveries = %v, %v; want none", m, err)
	}
	if err := ingesttest.CheckClickHouse(ctx, ch.Conn, ds.Truth); err != nil {
		t.Error(err)
	}
}

// announceColumns lists the columns of announces, comma-separated.
func announceColumns(t *testing.T, ctx context.Context, ch testenv.CH) string {
	t.Helper()
	rows, err := ch.Conn.Query(ctx, "SELECT name FROM system.columns WHERE database = currentDatabase() AND table = 'announces'")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var cols []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			t.Fatal(err)
		}
		cols = append(cols, c)
	}
	return strings.Join(cols, ", ")
}

// announce_ids lost or doubled (by hand: the loader only ever adds missing
// ids) is found by SuspectMonths and undone exactly by RebuildViews, from
// the raw table.
func TestRebuildViewsRepairsLostAndDoubledIDs(t *testing.T) {
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
		"ALTER TABLE announce_ids DELETE WHERE kafka_offset % 7 = 0", // lost ids
		"INSERT INTO announce_ids (event_id, time, kafka_partition, kafka_offset) " + // doubled ones
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
