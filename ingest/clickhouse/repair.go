package clickhouse

import (
	"context"
	_ "embed"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	chgo "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/ratioguard/ratioguard/internal/chconn"
)

var (
	//go:embed sql/suspect_months.sql
	suspectMonthsSQL string
	//go:embed sql/views.sql
	viewsSQL string
	//go:embed sql/missing_ids.sql
	missingIDsSQL string
	//go:embed sql/recent_parts.sql
	recentPartsSQL string
	//go:embed sql/stored_at.sql
	storedAtSQL string
)

// SuspectMonths returns the months (YYYYMM) in which announce_ids (the one
// view on `announces`) and the raw table hold different numbers of rows,
// from the active parts' row counts (instant). An INSERT in flight shows
// for a moment; otherwise only a ClickHouse server crash between the raw
// part and the ids part of one INSERT leaves such a month, and the loader
// repairs that itself before it stores the partition again (repairIDs).
func SuspectMonths(ctx context.Context, conn chconn.Conn) ([]uint32, error) {
	months, err := chconn.Column[uint32](ctx, conn, suspectMonthsSQL)
	if err != nil {
		return nil, fmt.Errorf("compare announce_ids with announces: %w", err)
	}
	return months, nil
}

// repairIDs gives every raw row of Kafka partition p that a crashed INSERT
// left without its announce_ids row its id. 18.16 writes an INSERT's raw
// part, then the view's ids part, each committed on its own: a server crash
// between the two leaves raw rows whose ids are missing, and the batch,
// never acknowledged, is delivered again — the dedupe lookup would not find
// those ids and would insert the rows a second time. So after any failure
// and on every resume, once no insert of ours into p is running
// (waitInflight), the loader re-derives the missing ids before it looks ids
// up again.
//
// Cost: one read of system.parts when the tables agree (the common case).
// For a month whose row counts differ (a crash, or another partition's
// insert in flight at that instant), only the rows a crashed INSERT can have
// written are looked at: partition p's, from its stored offset on (the
// offset is stored after the INSERT is acknowledged), in the parts written
// since that offset was stored (every row inserted since is in one of them,
// merged or not). Other partitions' rows are left to their own workers:
// their inserts may be in flight. Ids missing below the stored offset cannot
// come from the loader; SuspectMonths (reconcile) still shows them, and
// RebuildViews repairs them.
func (l *Loader) repairIDs(ctx context.Context, topic string, p int32) error {
	months, err := SuspectMonths(ctx, l.conn)
	if err != nil || len(months) == 0 {
		return err
	}
	stored, err := l.storedOffset(ctx, topic, p)
	if err != nil {
		return err
	}
	var since uint32
	if err := l.conn.QueryRow(ctx, storedAtSQL, l.name, topic, uint32(p)).Scan(&since); err != nil {
		return fmt.Errorf("read when clickhouse offset of %s/%d was stored: %w", topic, p, err)
	}
	since = max(since, partClockSlack) - partClockSlack
	for _, m := range months {
		parts, err := l.partsSince(ctx, m, since)
		if err != nil {
			return err
		}
		if err := l.rederiveIDs(ctx, m, p, max(stored, 0), parts); err != nil {
			return err
		}
	}
	return nil
}

// partClockSlack: parts written up to this many seconds before the offset
// was stored are looked at too (both times are the server's, to the second).
const partClockSlack = 5

var partNameRE = regexp.MustCompile(`^[0-9A-Za-z_]+$`)

// partsSince returns the active parts of announces in month written at or
// after since, as a literal list for `_part IN` (nil: none).
func (l *Loader) partsSince(ctx context.Context, month, since uint32) ([]string, error) {
	names, err := chconn.Column[string](ctx, l.conn, recentPartsSQL, chgo.Named("month", month), chgo.Named("since", since))
	if err != nil {
		return nil, fmt.Errorf("list recent parts of announces month %d: %w", month, err)
	}
	out := make([]string, 0, len(names))
	for _, name := range names {
		if !partNameRE.MatchString(name) {
			return nil, fmt.Errorf("announces part name %q is not a plain name", name)
		}
		out = append(out, "'"+name+"'")
	}
	return out, nil
}

// rederiveIDs inserts into announce_ids the ids of partition p's raw rows of
// month m, from offset on, in parts, that it lacks.
func (l *Loader) rederiveIDs(ctx context.Context, month uint32, p int32, offset int64, parts []string) error {
	if len(parts) == 0 {
		return nil
	}
	missing := strings.ReplaceAll(missingIDsSQL, "{parts}", "("+strings.Join(parts, ", ")+")")
	args := []any{chgo.Named("month", month), chgo.Named("partition", uint32(p)), chgo.Named("offset", uint64(offset))}
	var n uint64
	if err := l.conn.QueryRow(ctx, "SELECT count() FROM ("+missing+")", args...).Scan(&n); err != nil {
		return fmt.Errorf("count missing event ids of month %d, partition %d: %w", month, p, err)
	}
	if n == 0 {
		return nil
	}
	if err := l.conn.Exec(ctx, "INSERT INTO announce_ids (event_id, time, kafka_partition, kafka_offset)\n"+missing, args...); err != nil {
		return fmt.Errorf("re-derive %d event ids of month %d, partition %d: %w", n, month, p, err)
	}
	l.log.Warn("re-derived event ids a ClickHouse crash left out of announce_ids", "month", month, "partition", p, "from_offset", offset, "ids", n)
	return nil
}

// view is a materialized view on `announces`: where it writes, its output
// columns in order, and its SELECT.
type view struct {
	name, target string
	columns      []string
	query        string
}

var viewDefRE = regexp.MustCompile(`(?s)^CREATE MATERIALIZED VIEW \S+ TO (\S+) \((.*?)\) AS (SELECT .*)$`)

// parseView reads a view's definition as system.tables shows it.
func parseView(name, create string) (view, error) {
	m := viewDefRE.FindStringSubmatch(strings.TrimSpace(create))
	if m == nil {
		return view{}, fmt.Errorf("view %s: unexpected definition %q", name, create)
	}
	v := view{name: name, target: m[1], query: m[3]}
	for _, col := range splitTopLevel(m[2]) {
		f := strings.Fields(col)
		if len(f) < 2 {
			return view{}, fmt.Errorf("view %s: bad column %q", name, col)
		}
		v.columns = append(v.columns, f[0])
	}
	return v, nil
}

// splitTopLevel splits a column list on commas outside parentheses and quotes.
func splitTopLevel(s string) []string {
	var out []string
	depth, start, quoted := 0, 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && quoted:
			i++
		case c == '\'':
			quoted = !quoted
		case quoted:
		case c == '(':
			depth++
		case c == ')':
			depth--
		case c == ',' && depth == 0:
			out = append(out, strings.TrimSpace(s[start:i]))
			start = i + 1
		}
	}
	if rest := strings.TrimSpace(s[start:]); rest != "" {
		out = append(out, rest)
	}
	return out
}

// RebuildViews recomputes, for each month, the partition of every view
// target (since migration 0004 only announce_ids) from the raw table (the
// view's own SELECT over that month's rows, into a scratch copy of the
// target) and swaps it in with REPLACE PARTITION: exact, whatever was
// missing or doubled. Run it with the loader stopped: rows inserted into the
// month while it runs would be missing from the rebuilt partitions. The
// loader itself only adds missing ids (repairIDs), which is safe while it
// runs; this is for what that cannot fix (ids doubled by hand, say).
func RebuildViews(ctx context.Context, conn chconn.Conn, months []uint32) error {
	if len(months) == 0 {
		return nil
	}
	rows, err := conn.Query(ctx, viewsSQL)
	if err != nil {
		return fmt.Errorf("list views on announces: %w", err)
	}
	var views []view
	for rows.Next() {
		var name, create string
		if err := rows.Scan(&name, &create); err != nil {
			rows.Close()
			return fmt.Errorf("list views on announces: %w", err)
		}
		v, err := parseView(name, create)
		if err != nil {
			rows.Close()
			return err
		}
		views = append(views, v)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("list views on announces: %w", err)
	}
	for _, v := range views {
		for _, m := range months {
			if err := rebuildView(ctx, conn, v, m); err != nil {
				return err
			}
		}
	}
	return nil
}

var fromAnnouncesRE = regexp.MustCompile(`\bFROM (\S+\.)?announces\b`)

func rebuildView(ctx context.Context, conn chconn.Conn, v view, month uint32) error {
	if len(fromAnnouncesRE.FindAllStringIndex(v.query, -1)) != 1 {
		return fmt.Errorf("view %s: expected one FROM announces in %q", v.name, v.query)
	}
	mm := strconv.FormatUint(uint64(month), 10)
	query := fromAnnouncesRE.ReplaceAllString(v.query, "FROM (SELECT * FROM ${1}announces WHERE toYYYYMM(time) = "+mm+")")
	scratch := v.target + "_rebuild"
	stmts := []string{
		"DROP TABLE IF EXISTS " + scratch,
		"CREATE TABLE " + scratch + " AS " + v.target,
		"INSERT INTO " + scratch + " (" + strings.Join(v.columns, ", ") + ") " + query,
		"ALTER TABLE " + v.target + " REPLACE PARTITION " + mm + " FROM " + scratch,
		"DROP TABLE " + scratch,
	}
	for _, s := range stmts {
		if err := conn.Exec(ctx, s); err != nil {
			return fmt.Errorf("rebuild %s month %s: %s: %w", v.target, mm, s, err)
		}
	}
	return nil
}
