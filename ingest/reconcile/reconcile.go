// Package reconcile owns the comparison of the two sinks: the Postgres
// ledger's per-member totals against the sums of the raw announces in
// ClickHouse, cut at the ledger's Kafka offsets so that a live stream does
// not show up as a difference; and the user_hour rollup against the raw
// table. After any of the ingest fault tests it finds nothing.
package reconcile

import (
	"context"
	_ "embed"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ratioguard/ratioguard/ingest/clickhouse"
	"github.com/ratioguard/ratioguard/ingest/ledger"
	"github.com/ratioguard/ratioguard/internal/chconn"
)

var (
	//go:embed sql/ledger_users.sql
	ledgerUsersSQL string
	//go:embed sql/clickhouse_users.sql
	clickhouseUsersSQL string
	//go:embed sql/raw_users.sql
	rawUsersSQL string
	//go:embed sql/rollup_users.sql
	rollupUsersSQL string
)

// Fields compared per member, in output order.
var Fields = []string{"announces", "raw_uploaded", "raw_downloaded", "credited_uploaded",
	"credited_downloaded", "seedtime_seconds", "snatches"}

type sums [7]uint64

// Diff is one field of one member that differs between two sides.
type Diff struct {
	Check  string `json:"check"` // "ledger" (ledger vs raw) or "rollup" (user_hour vs raw)
	UserID uint64 `json:"user_id"`
	Field  string `json:"field"`
	Left   uint64 `json:"left"`  // ledger, or the rollup
	Right  uint64 `json:"right"` // raw announces in ClickHouse
}

// Report is the outcome of a run.
type Report struct {
	Topic string `json:"topic"`
	// Cut is the ledger's next offset per partition: the ClickHouse side
	// counts only events below it.
	Cut          map[int32]int64 `json:"cut"`
	LedgerUsers  int             `json:"ledger_users"`
	RawUsers     int             `json:"clickhouse_users"`
	Diffs        []Diff          `json:"differences"`
	RollupsCheck bool            `json:"rollups_checked"`
	// ViewMonths are the months (YYYYMM) in which a table fed by a view on
	// announces (ids, by-torrent copy, rollups) disagrees with it in row
	// count: repair with clickhouse.RebuildViews (reconcile --repair-views).
	ViewMonths []uint32 `json:"view_months_differing"`
}

// Options tune a run.
type Options struct {
	Topic string
	// Wait is how long to wait for the ClickHouse loader to reach the
	// ledger's offsets before comparing (it is usually ahead).
	Wait    time.Duration
	Rollups bool // also compare user_hour with the raw table
}

// Run compares the sinks.
func Run(ctx context.Context, pg *pgxpool.Pool, ch chconn.Conn, opt Options) (*Report, error) {
	rep := &Report{Topic: opt.Topic, RollupsCheck: opt.Rollups}
	ledger, cut, err := readLedger(ctx, pg, opt.Topic)
	if err != nil {
		return nil, err
	}
	rep.Cut, rep.LedgerUsers = cut, len(ledger)
	if err := waitLoader(ctx, ch, opt.Topic, cut, opt.Wait); err != nil {
		return nil, err
	}
	raw, err := chSums(ctx, ch, strings.ReplaceAll(clickhouseUsersSQL, "{cut}", cutCondition(cut)))
	if err != nil {
		return nil, err
	}
	rep.RawUsers = len(raw)
	rep.Diffs = compare("ledger", ledger, raw)
	if opt.Rollups {
		diffs, err := rollupDiffs(ctx, ch)
		if err != nil {
			return nil, err
		}
		rep.Diffs = append(rep.Diffs, diffs...)
		if rep.ViewMonths, err = clickhouse.SuspectMonths(ctx, ch); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

// readLedger reads offsets and totals in one snapshot.
func readLedger(ctx context.Context, pg *pgxpool.Pool, topic string) (map[uint64]sums, map[int32]int64, error) {
	tx, err := pg.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, nil, fmt.Errorf("begin ledger snapshot: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	cut, err := ledger.StoredOffsets(ctx, tx, topic)
	if err != nil {
		return nil, nil, err
	}
	rows, err := tx.Query(ctx, ledgerUsersSQL)
	if err != nil {
		return nil, nil, fmt.Errorf("read ledger totals: %w", err)
	}
	defer rows.Close()
	out := map[uint64]sums{}
	for rows.Next() {
		var u int64
		var vs [7]string
		if err := rows.Scan(&u, &vs[0], &vs[1], &vs[2], &vs[3], &vs[4], &vs[5], &vs[6]); err != nil {
			return nil, nil, fmt.Errorf("scan ledger totals: %w", err)
		}
		var s sums
		for i, v := range vs {
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				return nil, nil, fmt.Errorf("ledger %s of user %d is %s: not a uint64", Fields[i], u, v)
			}
			s[i] = n
		}
		out[uint64(u)] = s
	}
	return out, cut, rows.Err()
}

// waitLoader waits until the loader's stored offsets reach the cut.
func waitLoader(ctx context.Context, ch chconn.Conn, topic string, cut map[int32]int64, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	for {
		stored, err := clickhouse.StoredOffsets(ctx, ch, topic)
		if err != nil {
			return err
		}
		var behind []string
		for p, n := range cut {
			if stored[p] < n {
				behind = append(behind, fmt.Sprintf("partition %d: clickhouse %d < ledger %d", p, stored[p], n))
			}
		}
		if len(behind) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			sort.Strings(behind)
			return fmt.Errorf("the clickhouse loader is behind the ledger (%s); run again when it has caught up", strings.Join(behind, "; "))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// cutCondition selects rows below the cut (integers only: no injection).
func cutCondition(cut map[int32]int64) string {
	if len(cut) == 0 {
		return "0"
	}
	parts := make([]int32, 0, len(cut))
	for p := range cut {
		parts = append(parts, p)
	}
	sort.Slice(parts, func(i, j int) bool { return parts[i] < parts[j] })
	var b strings.Builder
	b.WriteString("multiIf(")
	for _, p := range parts {
		fmt.Fprintf(&b, "kafka_partition = %d, kafka_offset < %d, ", p, cut[p])
	}
	b.WriteString("0)")
	return b.String()
}

func chSums(ctx context.Context, ch chconn.Conn, sql string) (map[uint64]sums, error) {
	rows, err := ch.Query(ctx, sql)
	if err != nil {
		return nil, fmt.Errorf("clickhouse sums: %w", err)
	}
	defer rows.Close()
	out := map[uint64]sums{}
	for rows.Next() {
		var u uint64
		var s sums
		if err := rows.Scan(&u, &s[0], &s[1], &s[2], &s[3], &s[4], &s[5], &s[6]); err != nil {
			return nil, fmt.Errorf("scan clickhouse sums: %w", err)
		}
		out[u] = s
	}
	return out, rows.Err()
}

// rollupDiffs compares user_hour with the raw table; differing members are
// read again once (an insert may have landed between the two reads).
func rollupDiffs(ctx context.Context, ch chconn.Conn) ([]Diff, error) {
	var diffs []Diff
	for attempt := 0; attempt < 2; attempt++ {
		raw, err := chSums(ctx, ch, rawUsersSQL)
		if err != nil {
			return nil, err
		}
		roll, err := chSums(ctx, ch, rollupUsersSQL)
		if err != nil {
			return nil, err
		}
		if diffs = compare("rollup", roll, raw); len(diffs) == 0 {
			return nil, nil
		}
		time.Sleep(time.Second)
	}
	return diffs, nil
}

func compare(check string, left, right map[uint64]sums) []Diff {
	users := map[uint64]bool{}
	for u := range left {
		users[u] = true
	}
	for u := range right {
		users[u] = true
	}
	ids := make([]uint64, 0, len(users))
	for u := range users {
		ids = append(ids, u)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	var out []Diff
	for _, u := range ids {
		l, r := left[u], right[u]
		for i := range l {
			if l[i] != r[i] {
				out = append(out, Diff{Check: check, UserID: u, Field: Fields[i], Left: l[i], Right: r[i]})
			}
		}
	}
	return out
}
