package ingest_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ratioguard/ratioguard/ingest"
	"github.com/ratioguard/ratioguard/ingest/clickhouse"
	"github.com/ratioguard/ratioguard/ingest/ingesttest"
	"github.com/ratioguard/ratioguard/ingest/ledger"
	"github.com/ratioguard/ratioguard/ingest/reconcile"
	"github.com/ratioguard/ratioguard/ingest/rollup"
	"github.com/ratioguard/ratioguard/internal/chconn"
	"github.com/ratioguard/ratioguard/internal/config"
	"github.com/ratioguard/ratioguard/internal/testenv"
)

// stack is one test's private database pair and topic.
type stack struct {
	pg    testenv.PG
	ch    testenv.CH
	kafka testenv.KafkaTopic
}

func newStack(t *testing.T, partitions int) stack {
	t.Helper()
	return stack{pg: testenv.Postgres(t), ch: testenv.ClickHouse(t), kafka: testenv.Kafka(t, partitions)}
}

func (s stack) engines() config.Engines {
	return config.Engines{PostgresURL: s.pg.URL, ClickHouseURL: s.ch.URL, KafkaBrokers: joinList(s.kafka.Brokers)}
}

// prefill seeds the members and torrents, produces the data set and
// returns the topic's end offsets.
func (s stack) prefill(t *testing.T, ctx context.Context, ds *ingesttest.Dataset, users, torrents int) map[int32]int64 {
	t.Helper()
	if err := ingesttest.SeedPostgres(ctx, s.pg.Pool, users, torrents); err != nil {
		t.Fatal(err)
	}
	if err := ingesttest.Produce(ctx, s.kafka.Brokers, s.kafka.Topic, ds.Msgs); err != nil {
		t.Fatal(err)
	}
	ends, err := ingesttest.EndOffsets(ctx, s.kafka.Brokers, s.kafka.Topic)
	if err != nil {
		t.Fatal(err)
	}
	return ends
}

func chOffsets(conn chconn.Conn, topic string) ingesttest.Offsets {
	return func(ctx context.Context) (map[int32]int64, error) { return clickhouse.StoredOffsets(ctx, conn, topic) }
}

func ledgerOffsets(pool *pgxpool.Pool, topic string) ingesttest.Offsets {
	return func(ctx context.Context) (map[int32]int64, error) { return ledger.StoredOffsets(ctx, pool, topic) }
}

func joinList(l []string) string {
	out := ""
	for i, s := range l {
		if i > 0 {
			out += ","
		}
		out += s
	}
	return out
}

func testLog() *slog.Logger {
	if os.Getenv("RG_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// TestIngestExactlyOnce loads a stream with duplicates (same id, later
// offsets) and garbage into both sinks and checks every table against the
// truth, then the dead-letter topic.
func TestIngestExactlyOnce(t *testing.T) {
	s := newStack(t, 4)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ds := ingesttest.NewDataset(1, 20_000, 300, 200, 7, 25)
	ends := s.prefill(t, ctx, ds, 300, 200)
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- ingest.Run(runCtx, ingest.Config{
			Engines: s.engines(), Topic: s.kafka.Topic, Sinks: []string{ingest.SinkClickHouse, ingest.SinkLedger},
			ClickHouseBatch: 3000, LedgerBatch: 2000, Linger: 200 * time.Millisecond, Log: testLog(),
			Rollups: rollup.RunConfig{Every: 200 * time.Millisecond},
		})
	}()
	err := ingesttest.WaitCaughtUp(ctx, ends, chOffsets(s.ch.Conn, s.kafka.Topic), ledgerOffsets(s.pg.Pool, s.kafka.Topic))
	if err == nil { // the ingest's own rollup builder catches up with the raw table
		err = waitRollups(ctx, s.ch.Conn)
	}
	stop()
	if runErr := <-done; runErr != nil {
		t.Errorf("ingest.Run: %v", runErr)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d messages: %d events, %d duplicates, %d garbage", len(ds.Msgs), ds.Truth.Events, ds.Dups, ds.Truth.Garbage)
	if ds.Dups == 0 || ds.Truth.Garbage == 0 {
		t.Fatalf("data set has no duplicates (%d) or no garbage (%d)", ds.Dups, ds.Truth.Garbage)
	}
	if err := ingesttest.CheckClickHouse(ctx, s.ch.Conn, ds.Truth); err != nil {
		t.Error(err)
	}
	if err := ingesttest.CheckLedger(ctx, s.pg.Pool, ds.Truth); err != nil {
		t.Error(err)
	}
	dead, err := ingesttest.ReadAll(ctx, s.kafka.Brokers, s.kafka.Topic+".dlq")
	if err != nil {
		t.Fatal(err)
	}
	checkDeadLetters(t, dead, ds.Truth.Garbage, s.kafka.Topic)
	checkReconcile(t, ctx, s)
	checkReconcileFindsAdjustedAndLost(t, ctx, s)
	checkReconcileRollups(t, ctx, s)
}

// waitRollups polls until no rollup hour differs from the raw table.
func waitRollups(ctx context.Context, conn chconn.Conn) error {
	b := rollup.New(conn, nil)
	for {
		stale, err := b.Stale(ctx, time.Time{})
		if err == nil && len(stale) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("rollups not built: %d stale hours (%v): %w", len(stale), err, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// checkReconcileRollups: an hour the builder has not built (its partition
// dropped) is lag, listed apart and rebuilt by a refresh, never a
// difference; a rollup whose sums are wrong while its counts are right is.
func checkReconcileRollups(t *testing.T, ctx context.Context, s stack) {
	t.Helper()
	run := func(refresh bool) *reconcile.Report {
		t.Helper()
		rep, err := reconcile.Run(ctx, s.pg.Pool, s.ch.Conn, reconcile.Options{Topic: s.kafka.Topic, Wait: time.Second, Rollups: true, RefreshRollups: refresh})
		if err != nil {
			t.Fatal(err)
		}
		var rollupDiffs []reconcile.Diff
		for _, d := range rep.Diffs {
			if d.Check == "rollup" {
				rollupDiffs = append(rollupDiffs, d)
			}
		}
		rep.Diffs = rollupDiffs // the ledger differences left by checkReconcileFindsAdjustedAndLost are not ours
		return rep
	}
	var hour time.Time
	var part uint64
	if err := s.ch.Conn.QueryRow(ctx, "SELECT hour, toUInt64(toYYYYMMDD(hour) * 100 + toHour(hour)) FROM user_hour ORDER BY hour LIMIT 1").Scan(&hour, &part); err != nil {
		t.Fatal(err)
	}
	if err := s.ch.Conn.Exec(ctx, fmt.Sprintf("ALTER TABLE user_hour DROP PARTITION %d", part)); err != nil {
		t.Fatal(err)
	}
	if rep := run(false); len(rep.Diffs) > 0 || len(rep.RollupLag) != 1 || !rep.RollupLag[0].Hour.Equal(hour) || rep.RollupsRebuilt != 0 {
		t.Errorf("reconcile without refresh after an hour's rollup was dropped: diffs %+v, lag %+v, rebuilt %d; want no diff, lag = that hour", rep.Diffs, rep.RollupLag, rep.RollupsRebuilt)
	}
	if rep := run(true); len(rep.Diffs) > 0 || len(rep.RollupLag) != 0 || rep.RollupsRebuilt != 1 {
		t.Errorf("reconcile with refresh: diffs %+v, lag %+v, rebuilt %d; want the hour rebuilt, nothing else", rep.Diffs, rep.RollupLag, rep.RollupsRebuilt)
	}
	// Same counts, wrong sum: a bug, not lag; a refresh does not hide it.
	if err := s.ch.Conn.Exec(ctx, fmt.Sprintf("INSERT INTO user_hour (user_id, hour, delta_uploaded) SELECT toUInt64(9), toDateTime(%d), sumState(toUInt64(5))", hour.Unix())); err != nil {
		t.Fatal(err)
	}
	rep := run(true)
	if len(rep.Diffs) != 1 || rep.Diffs[0].UserID != 9 || rep.Diffs[0].Field != "raw_uploaded" || rep.Diffs[0].Left != rep.Diffs[0].Right+5 || len(rep.RollupLag) != 0 {
		t.Errorf("reconcile after a wrong rollup sum: diffs %+v, lag %+v; want user 9 raw_uploaded +5", rep.Diffs, rep.RollupLag)
	}
}

// checkReconcileFindsAdjustedAndLost: an adjustment is not a difference
// (it is accounted for); a row lost from the ledger is.
func checkReconcileFindsAdjustedAndLost(t *testing.T, ctx context.Context, s stack) {
	t.Helper()
	if _, _, err := ledger.Adjust(ctx, s.pg.Pool, ledger.Adjustment{UserID: 7, CreditedUploaded: -1000,
		Reason: "reversal of fake upload", ReportID: 99, Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	checkReconcile(t, ctx, s)
	if _, err := s.pg.Pool.Exec(ctx, "UPDATE ledger_user_totals SET raw_uploaded = raw_uploaded - 5 WHERE user_id = 8"); err != nil {
		t.Fatal(err)
	}
	rep, err := reconcile.Run(ctx, s.pg.Pool, s.ch.Conn, reconcile.Options{Topic: s.kafka.Topic, Wait: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	want := reconcile.Diff{Check: "ledger", UserID: 8, Field: "raw_uploaded"}
	if len(rep.Diffs) != 1 || rep.Diffs[0].Left+5 != rep.Diffs[0].Right || rep.Diffs[0].UserID != want.UserID || rep.Diffs[0].Field != want.Field {
		t.Errorf("reconcile after a silent update: %+v, want one difference of -5 in %+v", rep.Diffs, want)
	}
}

// checkDeadLetters: every garbage message is dead-lettered by each consumer
// (at least once), with its reason and origin.
func checkDeadLetters(t *testing.T, dead []ingesttest.DeadLetter, garbage uint64, topic string) {
	t.Helper()
	origins := map[string]map[string]bool{}
	for _, d := range dead {
		if d.Headers["reason"] == "" || d.Headers["origin-topic"] != topic || d.Headers["origin-partition"] == "" || d.Headers["origin-offset"] == "" {
			t.Errorf("dead letter without reason or origin: %v", d.Headers)
		}
		c := d.Headers["consumer"]
		if origins[c] == nil {
			origins[c] = map[string]bool{}
		}
		origins[c][d.Headers["origin-partition"]+"/"+d.Headers["origin-offset"]] = true
	}
	for _, c := range []string{ingest.SinkClickHouse, ingest.SinkLedger} {
		if got := len(origins[c]); uint64(got) != garbage {
			t.Errorf("consumer %s dead-lettered %d distinct messages, want %d", c, got, garbage)
		}
	}
}

// checkReconcile: reconcile finds no difference between the sinks.
func checkReconcile(t *testing.T, ctx context.Context, s stack) {
	t.Helper()
	rep, err := reconcile.Run(ctx, s.pg.Pool, s.ch.Conn, reconcile.Options{Topic: s.kafka.Topic, Wait: 10 * time.Second, Rollups: true})
	if err != nil {
		t.Fatalf("reconcile: %v", err)
	}
	if len(rep.Diffs) > 0 || len(rep.ViewMonths) > 0 || len(rep.RollupLag) > 0 || rep.LedgerUsers == 0 || len(rep.Cut) == 0 {
		t.Errorf("reconcile: %d ledger users, cut %v, view months differing %v, rollup hours lagging %d, differences: %+v",
			rep.LedgerUsers, rep.Cut, rep.ViewMonths, len(rep.RollupLag), rep.Diffs[:min(len(rep.Diffs), 10)])
	}
}
