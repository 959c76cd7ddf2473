package site

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strings"
)

// maxPlaceholders bounds one statement's arguments (MariaDB allows 65,535).
const maxPlaceholders = 60_000

// rowsMarker is {{rows:a,b,c}}: a derived table of bound rows, one column
// per name, for UPDATE ... JOIN (MariaDB has no VALUES with column names).
// A column named c=binary holds bytes (peer ids): a bare placeholder of a
// derived table takes the connection's character set, and bytes that are
// not UTF-8 (aria2's peer ids) would then match no row.
var rowsMarker = regexp.MustCompile(`\{\{rows:([a-z_,=]+)\}\}`)

// expand writes n rows of cols placeholders into tmpl's marker.
func expand(tmpl string, n, cols int) string {
	if m := rowsMarker.FindStringSubmatchIndex(tmpl); m != nil {
		names := strings.Split(tmpl[m[2]:m[3]], ",")
		var b strings.Builder
		for i := range n {
			if i > 0 {
				b.WriteString(" UNION ALL ")
			}
			b.WriteString("SELECT ")
			for j, name := range names {
				if j > 0 {
					b.WriteString(", ")
				}
				name, binary := strings.CutSuffix(name, "=binary")
				if binary {
					b.WriteString("CAST(? AS BINARY)")
				} else {
					b.WriteString("?")
				}
				if i == 0 {
					b.WriteString(" AS " + name)
				}
			}
		}
		return tmpl[:m[0]] + b.String() + tmpl[m[1]:]
	}
	tuple := "(" + strings.TrimSuffix(strings.Repeat("?,", cols), ",") + ")"
	return strings.Replace(tmpl, "{{values}}", strings.TrimSuffix(strings.Repeat(tuple+",", n), ","), 1)
}

// execRows runs tmpl over args (rows of cols values, flattened) in chunks
// that fit the placeholder limit, and returns the rows it affected.
func execRows(ctx context.Context, tx *sql.Tx, what, tmpl string, cols int, args []any) (int64, error) {
	if len(args) == 0 {
		return 0, nil
	}
	if len(args)%cols != 0 {
		return 0, fmt.Errorf("%s: %d values are not rows of %d", what, len(args), cols)
	}
	per := maxPlaceholders / cols
	var total int64
	for start := 0; start < len(args); start += per * cols {
		end := min(start+per*cols, len(args))
		res, err := tx.ExecContext(ctx, expand(tmpl, (end-start)/cols, cols), args[start:end]...)
		if err != nil {
			return total, fmt.Errorf("%s: %w", what, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, fmt.Errorf("%s: rows affected: %w", what, err)
		}
		total += n
	}
	return total, nil
}

// queryRows runs tmpl over args in chunks like execRows and calls scan for
// every row of every chunk's result.
func queryRows(ctx context.Context, tx *sql.Tx, what, tmpl string, cols int, args []any, scan func(*sql.Rows) error) error {
	per := maxPlaceholders / cols
	for start := 0; start < len(args); start += per * cols {
		end := min(start+per*cols, len(args))
		rs, err := tx.QueryContext(ctx, expand(tmpl, (end-start)/cols, cols), args[start:end]...)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		for rs.Next() {
			if err := scan(rs); err != nil {
				rs.Close()
				return fmt.Errorf("%s: scan: %w", what, err)
			}
		}
		err = rs.Err()
		rs.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
	}
	return nil
}
