package clickhouse

import (
	"context"
	_ "embed"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/ratioguard/ratioguard/internal/chconn"
)

var (
	//go:embed sql/suspect_months.sql
	suspectMonthsSQL string
	//go:embed sql/views.sql
	viewsSQL string
)

// SuspectMonths returns the months (YYYYMM) in which a table fed by a view on
// `announces` disagrees with it in row count. Only a ClickHouse server crash
// in the middle of an INSERT leaves such a month (18.16 writes the raw part
// and then each view's part; see docs/ARCHITECTURE.md).
func SuspectMonths(ctx context.Context, conn chconn.Conn) ([]uint32, error) {
	rows, err := conn.Query(ctx, suspectMonthsSQL)
	if err != nil {
		return nil, fmt.Errorf("compare views with announces: %w", err)
	}
	defer rows.Close()
	var out []uint32
	for rows.Next() {
		var m uint32
		if err := rows.Scan(&m); err != nil {
			return nil, fmt.Errorf("compare views with announces: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
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
// target from the raw table (the view's own SELECT over that month's rows,
// into a scratch copy of the target) and swaps it in with REPLACE PARTITION.
// Run it with the loader stopped: rows inserted into the month while it
// runs would be missing from the rebuilt partitions.
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
