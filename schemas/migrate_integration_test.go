package schemas_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ratioguard/ratioguard/ingest/clickhouse"
	"github.com/ratioguard/ratioguard/ingest/consumer"
	"github.com/ratioguard/ratioguard/ingest/ingesttest"
	"github.com/ratioguard/ratioguard/ingest/rollup"
	"github.com/ratioguard/ratioguard/internal/chconn"
	"github.com/ratioguard/ratioguard/internal/testenv"
	"github.com/ratioguard/ratioguard/schemas"
	"github.com/ratioguard/ratioguard/schemas/events"
)

func TestPostgresMigrationsApplyIdempotentlyAndNotify(t *testing.T) {
	pg := testenv.Postgres(t) // applies every migration once
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	again, err := schemas.MigratePostgres(ctx, pg.Pool)
	if err != nil {
		t.Fatalf("second migrate: %v", err)
	}
	if len(again) != 0 {
		t.Fatalf("second migrate applied %d migrations, want 0", len(again))
	}

	// A change to a user must NOTIFY the tracker's channel.
	conn, err := pg.Pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "LISTEN ratioguard_policy"); err != nil {
		t.Fatal(err)
	}
	var id int64
	err = pg.Pool.QueryRow(ctx, `INSERT INTO users (name, passkey) VALUES ('alice', '0123456789abcdef0123456789abcdef') RETURNING id`).Scan(&id)
	if err != nil {
		t.Fatal(err)
	}
	n, err := conn.Conn().WaitForNotification(ctx)
	if err != nil {
		t.Fatalf("no notification: %v", err)
	}
	want := `{"table" : "users", "op" : "insert", "id" : ` + strconv.FormatInt(id, 10) + `}`
	if n.Payload != want {
		t.Fatalf("payload %q, want %q", n.Payload, want)
	}

	// Bad input is refused by the schema, not silently stored.
	if _, err := pg.Pool.Exec(ctx, `INSERT INTO users (name, passkey) VALUES ('bob', 'not-a-passkey')`); err == nil {
		t.Fatal("malformed passkey accepted")
	}
}

func TestClickHouseMigrationsApplyIdempotentlyAndRollUp(t *testing.T) {
	ch := testenv.ClickHouse(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	again, err := schemas.MigrateClickHouse(ctx, ch.Conn)
	if err != nil {
		t.Fatalf("second migrate: %v", err)
	}
	if len(again) != 0 {
		t.Fatalf("second migrate applied %d migrations, want 0", len(again))
	}
	// One announce row: its id reaches announce_ids through the one view
	// left; the rollup builder rolls it up.
	batch, err := ch.Conn.PrepareBatch(ctx, `INSERT INTO announces (event_id, producer_id, sequence, time, time_ms, user_id, torrent_id,
		info_hash, peer_id, ip, network, user_agent, event, delta_uploaded, delta_downloaded, result)`)
	if err != nil {
		t.Fatal(err)
	}
	err = batch.Append("0123456789abcdef", "01234567", uint64(1), time.Now(), uint64(0), uint64(7), uint64(9),
		"aaaaaaaaaaaaaaaaaaaa", "-qB4650-abcdefghijkl", "iiiiiiiiiiiiiiii", "nnnnnnnnnnnnnnnn", "qBittorrent/4.6.5", "started",
		uint64(1000), uint64(500), "accepted")
	if err == nil {
		err = batch.Send()
	}
	if err != nil {
		t.Fatalf("insert announce: %v", err)
	}
	expect := func(sql string, want uint64) {
		t.Helper()
		var got uint64
		if err := ch.Conn.QueryRow(ctx, sql).Scan(&got); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		if got != want {
			t.Errorf("%s = %d, want %d", sql, got, want)
		}
	}
	expect(`SELECT count() FROM announce_ids WHERE event_id = '0123456789abcdef'`, 1)
	expect(`SELECT count() FROM system.tables WHERE database = currentDatabase() AND name IN ('announces_by_torrent', 'announces_by_torrent_mv', 'user_hour_mv', 'torrent_hour_mv', 'user_network_hour_mv')`, 0)
	expect(`SELECT count() FROM user_hour`, 0) // nothing on the insert path
	b := rollup.New(ch.Conn, nil)
	defer func() { _ = b.Close(context.Background()) }()
	if _, err := b.Refresh(ctx, time.Time{}); err != nil {
		t.Fatal(err)
	}
	expect(`SELECT toUInt64(sumMerge(delta_uploaded)) FROM user_hour WHERE user_id = 7`, 1000)
	expect(`SELECT toUInt64(sumMerge(delta_downloaded)) FROM user_hour WHERE user_id = 7`, 500)
	expect(`SELECT toUInt64(sumMerge(starts)) FROM torrent_hour WHERE torrent_id = 9`, 1)
	expect(`SELECT toUInt64(countMerge(announces)) FROM user_network_hour WHERE user_id = 7`, 1)
}

// TestClickHouse0004KeepsRawRowsAndRollsUp: migration 0004 applied to a
// database that holds data loaded under 0001-0003 (raw rows and ids by the
// loader, rollups by the old views), after a first attempt that crashed
// right after its copy, keeps every raw row and id; the rollup builder then
// fills the re-created rollups equal to the raw table and to what the old
// views held.
func TestClickHouse0004KeepsRawRowsAndRollsUp(t *testing.T) {
	ch := testenv.EmptyClickHouse(t)
	conn := ch.Conn
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	files, err := schemas.ClickHouseMigrations()
	if err != nil {
		t.Fatal(err)
	}
	// schema_migrations as MigrateClickHouse creates it, with 0001-0003 applied.
	if err := conn.Exec(ctx, "CREATE TABLE schema_migrations (version UInt32, name String, applied_at DateTime) ENGINE = ReplacingMergeTree() ORDER BY version"); err != nil {
		t.Fatal(err)
	}
	var m0004 schemas.ClickHouseMigration
	for _, f := range files {
		if f.Version == 4 {
			m0004 = f
		}
		if f.Version >= 4 {
			continue
		}
		for _, stmt := range f.Statements {
			if err := conn.Exec(ctx, stmt); err != nil {
				t.Fatalf("%s: %v", f.Name, err)
			}
		}
		rec, err := conn.PrepareBatch(ctx, "INSERT INTO schema_migrations (version, name, applied_at)")
		if err == nil {
			err = rec.Append(f.Version, f.Name, time.Now())
		}
		if err == nil {
			err = rec.Send()
		}
		if err != nil {
			t.Fatal(err)
		}
	}

	// Data under the old schema, loaded by the loader (with duplicates).
	ds := ingesttest.NewDataset(21, 8000, 80, 50, 11, 0)
	l := clickhouse.New(conn, ch.Database, nil)
	if err := l.Store(ctx, oneBatch(ds)); err != nil {
		t.Fatal(err)
	}
	old := snapshot(t, ctx, conn)
	if old.rawRows != ds.Truth.Events || old.rollupRows != ds.Truth.Events {
		t.Fatalf("before 0004: %+v, want %d raw rows rolled up by the views", old, ds.Truth.Events)
	}

	// 0004 crashes right after its copy, then runs again from the top.
	copied := -1
	for i, stmt := range m0004.Statements {
		if strings.HasPrefix(stmt, "INSERT INTO announces_0004") || strings.Contains(stmt, "\nINSERT INTO announces_0004") {
			copied = i
		}
	}
	if copied < 0 {
		t.Fatal("0004 has no copy statement")
	}
	for _, stmt := range m0004.Statements[:copied+1] {
		if err := conn.Exec(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	applied, err := schemas.MigrateClickHouse(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	if len(applied) == 0 || applied[0].Version != 4 {
		t.Fatalf("applied %+v, want 0004 first", applied)
	}
	var key string
	if err := conn.QueryRow(ctx, "SELECT sorting_key FROM system.tables WHERE database = currentDatabase() AND name = 'announces'").Scan(&key); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(key, "toStartOfHour(time)") {
		t.Errorf("announces sorting key %q, want time first", key)
	}
	if err := ingesttest.CheckClickHouse(ctx, conn, ds.Truth); err != nil { // refreshes the rollups first
		t.Error(err)
	}
	if got := snapshot(t, ctx, conn); got != old {
		t.Errorf("after 0004 and a rollup refresh: %+v, want what the views held before: %+v", got, old)
	}
}

// oneBatch is the data set's decodable messages as one batch of partition 0.
func oneBatch(ds *ingesttest.Dataset) *consumer.Batch {
	b := &consumer.Batch{Topic: "t", Partition: 0, Prev: -1, Next: int64(len(ds.Msgs))}
	for off, m := range ds.Msgs {
		if a, err := events.Decode(m.Value); err == nil {
			b.Events = append(b.Events, consumer.Event{Offset: int64(off), A: a})
		}
	}
	return b
}

// state is what 0004 must keep: raw rows and a digest of them, ids, and the
// rollups' totals.
type state struct {
	rawRows, rawDigest, ids                  uint64
	rollupRows, rollupUp, rollupCred, netUp  uint64
	torrentAccepted, torrentStarts, networks uint64
}

func snapshot(t *testing.T, ctx context.Context, conn chconn.Conn) state {
	t.Helper()
	var s state
	for _, q := range []struct {
		sql string
		dst []any
	}{
		{"SELECT count(), sum(cityHash64(event_id, time, user_id, torrent_id, delta_uploaded, kafka_offset)) FROM announces", []any{&s.rawRows, &s.rawDigest}},
		{"SELECT count() FROM announce_ids", []any{&s.ids}},
		{"SELECT toUInt64(countMerge(announces)), toUInt64(sumMerge(delta_uploaded)), toUInt64(sumMerge(credited_uploaded)) FROM user_hour", []any{&s.rollupRows, &s.rollupUp, &s.rollupCred}},
		{"SELECT toUInt64(sumMerge(delta_uploaded)) FROM user_network_hour", []any{&s.netUp}},
		{"SELECT toUInt64(countMerge(announces)), toUInt64(sumMerge(starts)) FROM torrent_hour", []any{&s.torrentAccepted, &s.torrentStarts}},
		{"SELECT toUInt64(sum(n)) FROM (SELECT uniqExactMerge(networks) AS n FROM user_hour GROUP BY user_id, hour)", []any{&s.networks}},
	} {
		if err := conn.QueryRow(ctx, q.sql).Scan(q.dst...); err != nil {
			t.Fatalf("%s: %v", q.sql, err)
		}
	}
	return s
}
