package schemas

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ratioguard/ratioguard/internal/chconn"
)

//go:embed clickhouse/*.sql
var clickhouseFS embed.FS

const chMigrationsDDL = `CREATE TABLE IF NOT EXISTS schema_migrations (
    version    UInt32,
    name       String,
    applied_at DateTime
) ENGINE = ReplacingMergeTree() ORDER BY version`

// MigrateClickHouse applies, in order, every ClickHouse DDL file not yet
// recorded in schema_migrations. Each statement is idempotent (IF NOT
// EXISTS), so a crash between a statement and the record is harmless.
func MigrateClickHouse(ctx context.Context, conn chconn.Conn) ([]Applied, error) {
	if err := conn.Exec(ctx, chMigrationsDDL); err != nil {
		return nil, fmt.Errorf("create clickhouse schema_migrations: %w", err)
	}
	done := map[uint32]bool{}
	rows, err := conn.Query(ctx, "SELECT version FROM schema_migrations")
	if err != nil {
		return nil, fmt.Errorf("read clickhouse schema_migrations: %w", err)
	}
	for rows.Next() {
		var v uint32
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return nil, fmt.Errorf("scan clickhouse schema_migrations: %w", err)
		}
		done[v] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read clickhouse schema_migrations: %w", err)
	}

	files, err := ClickHouseMigrations()
	if err != nil {
		return nil, err
	}
	var out []Applied
	for _, f := range files {
		if done[f.Version] {
			continue
		}
		for i, stmt := range f.Statements {
			if err := conn.Exec(ctx, stmt); err != nil {
				return out, fmt.Errorf("clickhouse migration %s statement %d: %w", f.Name, i+1, err)
			}
		}
		if err := recordMigration(ctx, conn, f); err != nil {
			return out, err
		}
		out = append(out, Applied{Engine: "clickhouse", Version: int64(f.Version), Name: f.Name})
	}
	return out, nil
}

// ClickHouseMigration is one DDL file split into statements.
type ClickHouseMigration struct {
	Version    uint32
	Name       string
	Statements []string
}

// ClickHouseMigrations lists the embedded DDL files in version order.
func ClickHouseMigrations() ([]ClickHouseMigration, error) {
	entries, err := fs.ReadDir(clickhouseFS, "clickhouse")
	if err != nil {
		return nil, fmt.Errorf("list embedded clickhouse migrations: %w", err)
	}
	var out []ClickHouseMigration
	for _, e := range entries {
		name := e.Name()
		prefix, _, ok := strings.Cut(name, "_")
		v, err := strconv.ParseUint(prefix, 10, 32)
		if !ok || err != nil {
			return nil, fmt.Errorf("clickhouse migration %s: name must start with NNNN_", name)
		}
		body, err := clickhouseFS.ReadFile("clickhouse/" + name)
		if err != nil {
			return nil, fmt.Errorf("read clickhouse migration %s: %w", name, err)
		}
		out = append(out, ClickHouseMigration{Version: uint32(v), Name: name, Statements: SplitStatements(string(body))})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	for i := 1; i < len(out); i++ {
		if out[i].Version == out[i-1].Version {
			return nil, fmt.Errorf("clickhouse migrations %s and %s share version %d", out[i-1].Name, out[i].Name, out[i].Version)
		}
	}
	return out, nil
}

// SplitStatements splits SQL on semicolons that end a line, dropping
// comment-only and blank statements. DDL here never has ';' inside literals
// at a line end.
func SplitStatements(sql string) []string {
	var out []string
	var cur strings.Builder
	flush := func() {
		s := strings.TrimSpace(cur.String())
		cur.Reset()
		if stripComments(s) != "" {
			out = append(out, s)
		}
	}
	for _, line := range strings.Split(sql, "\n") {
		trimmed := strings.TrimRight(line, " \t\r")
		if strings.HasSuffix(trimmed, ";") {
			cur.WriteString(strings.TrimSuffix(trimmed, ";"))
			flush()
			continue
		}
		cur.WriteString(line)
		cur.WriteString("\n")
	}
	flush()
	return out
}

func stripComments(s string) string {
	var b strings.Builder
	for _, line := range strings.Split(s, "\n") {
		if t := strings.TrimSpace(line); t != "" && !strings.HasPrefix(t, "--") {
			b.WriteString(t)
		}
	}
	return b.String()
}

// recordMigration inserts the migration's row. INSERTs go through a batch:
// an INSERT with bound values through Exec waits forever on 18.16.
func recordMigration(ctx context.Context, conn chconn.Conn, f ClickHouseMigration) error {
	batch, err := conn.PrepareBatch(ctx, "INSERT INTO schema_migrations (version, name, applied_at)")
	if err != nil {
		return fmt.Errorf("record clickhouse migration %s: %w", f.Name, err)
	}
	if err := batch.Append(f.Version, f.Name, time.Now()); err != nil {
		return fmt.Errorf("record clickhouse migration %s: %w", f.Name, err)
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("record clickhouse migration %s: %w", f.Name, err)
	}
	return nil
}
