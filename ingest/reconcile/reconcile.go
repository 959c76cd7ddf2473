// Package reconcile owns the comparison of the two sinks: the Postgres
// ledger's per-member totals against the sums of the raw announces in
// ClickHouse, cut at the ledger's Kafka offsets so that a live stream does
// not show up as a difference; the user_hour rollup against the raw table,
// over the hours the rollup builder has caught up with (the others are its
// lag, reported apart); and announce_ids against the raw table. After any of
// the ingest fault tests it finds nothing.
package reconcile

import (
	"context"
	_ "embed"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ratioguard/ratioguard/ingest/clickhouse"
	"github.com/ratioguard/ratioguard/ingest/ledger"
	"github.com/ratioguard/ratioguard/ingest/rollup"
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
	// RollupsRebuilt counts the (hour, rollup) pairs that Options.RefreshRollups
	// rebuilt before comparing: the builder's lag at that moment.
	RollupsRebuilt int `json:"rollups_rebuilt"`
	// RollupLag lists the hours whose rollups were not up to date with the
	// raw table when compared (row counts differ: rows the builder has not
	// rolled up yet). They are left out of the rollup comparison: lag, not
	// a difference.
	RollupLag []rollup.Hour `json:"rollup_hours_not_built"`
	// ViewMonths are the months (YYYYMM) in which announce_ids (the one view
	// on announces) differs from it in row count in three reads a second
	// apart (an INSERT in flight differs for an instant): ids a ClickHouse
	// crash left out that the loader has not re-derived yet (it does before
	// it stores that partition again), or damage; repair with
	// clickhouse.RebuildViews (reconcile --repair-views, loader stopped).
	ViewMonths []uint32 `json:"view_months_differing"`
}

// Options tune a run.
type Options struct {
	Topic string
	// Wait is how long to wait for the ClickHouse loader to reach the
	// ledger's offsets before comparing (it is usually ahead).
	Wait    time.Duration
	Rollups bool // also compare user_hour and announce_ids with the raw table
	// RefreshRollups: with Rollups, first bring every hour of the rollups up
	// to date (rollup.Builder.Refresh, what the ingest's builder does every
	// few seconds; safe beside it).
	RefreshRollups bool
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
		diffs, err := rollupDiffs(ctx, ch, opt.RefreshRollups, rep)
		if err != nil {
			return nil, err
		}
		rep.Diffs = append(rep.Diffs, diffs...)
		if rep.ViewMonths, err = suspectMonths(ctx, ch); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

// suspectMonths is clickhouse.SuspectMonths, keeping the months that differ
// in three reads a second apart.
func suspectMonths(ctx context.Context, ch chconn.Conn) ([]uint32, error) {
	months, err := clickhouse.SuspectMonths(ctx, ch)
	for attempt := 1; err == nil && attempt < 3 && len(months) > 0; attempt++ {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Second):
		}
		var again []uint32
		if again, err = clickhouse.SuspectMonths(ctx, ch); err == nil {
			months = slices.DeleteFunc(months, func(m uint32) bool { return !slices.Contains(again, m) })
		}
	}
	return months, err
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

// rollupDiffs compares user_hour with the raw table per member, over the
// hours whose row counts agree (the others are the builder's lag, recorded
// in rep.RollupLag). Counts agree but sums differ: a real difference. A
// difference is reported only if it is there three times, a second apart
// (rows may land in an hour between the reads).
func rollupDiffs(ctx context.Context, ch chconn.Conn, refresh bool, rep *Report) ([]Diff, error) {
	b := rollup.New(ch, nil)
	defer func() { _ = b.Close(context.WithoutCancel(ctx)) }()
	var diffs []Diff
	for attempt := 0; attempt < 3; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(time.Second):
			}
		}
		if refresh {
			res, err := b.Refresh(ctx, time.Time{})
			rep.RollupsRebuilt += res.Rebuilt
			if err != nil {
				return nil, err
			}
		}
		lag, err := b.Stale(ctx, time.Time{})
		if err != nil {
			return nil, err
		}
		roll, err := chSums(ctx, ch, strings.ReplaceAll(rollupUsersSQL, "{hours}", hoursBuilt("toUInt32(hour)", lag)))
		if err != nil {
			return nil, err
		}
		raw, err := chSums(ctx, ch, strings.ReplaceAll(rawUsersSQL, "{hours}", hoursBuilt("toUInt32(toStartOfHour(time))", lag)))
		if err != nil {
			return nil, err
		}
		rep.RollupLag = lag
		if diffs = compare("rollup", roll, raw); len(diffs) == 0 {
			return nil, nil
		}
	}
	return diffs, nil
}

// hoursBuilt is a condition on an hour column (as a unix time) leaving out
// the lagging hours (integers only: no injection).
func hoursBuilt(col string, lag []rollup.Hour) string {
	if len(lag) == 0 {
		return "1"
	}
	var b strings.Builder
	b.WriteString(col + " NOT IN (")
	for i, h := range lag {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.FormatInt(h.Hour.Unix(), 10))
	}
	b.WriteString(")")
	return b.String()
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
