// Package chconn owns how ratioguard connects to ClickHouse over the native
// protocol, with the settings every session needs on 18.16 and on current
// releases alike.
package chconn

import (
	"context"
	"fmt"
	"regexp"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Conn is the ClickHouse connection type used across the project.
type Conn = driver.Conn

var identRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Options parses a clickhouse:// URL and adds the session settings the schema needs.
func Options(rawURL string) (*clickhouse.Options, error) {
	opts, err := clickhouse.ParseDSN(rawURL)
	if err != nil {
		return nil, fmt.Errorf("parse clickhouse url: %w", err)
	}
	if opts.Settings == nil {
		opts.Settings = clickhouse.Settings{}
	}
	// LowCardinality is experimental on 18.16 and a no-op setting later.
	opts.Settings["allow_experimental_low_cardinality_type"] = 1
	return opts, nil
}

// Connect opens a connection to the database named in the URL and pings it.
func Connect(ctx context.Context, rawURL string) (Conn, error) {
	opts, err := Options(rawURL)
	if err != nil {
		return nil, err
	}
	return open(ctx, opts)
}

// EnsureDatabase creates the URL's database if it does not exist, connecting
// through the `default` database to do so, and returns a connection to it.
func EnsureDatabase(ctx context.Context, rawURL string) (Conn, error) {
	opts, err := Options(rawURL)
	if err != nil {
		return nil, err
	}
	db := opts.Auth.Database
	if db == "" {
		db = "default"
	}
	if !identRe.MatchString(db) {
		return nil, fmt.Errorf("clickhouse database name %q is not a plain identifier", db)
	}
	bootstrap := *opts
	bootstrap.Auth.Database = "default"
	conn, err := open(ctx, &bootstrap)
	if err != nil {
		return nil, err
	}
	err = conn.Exec(ctx, "CREATE DATABASE IF NOT EXISTS "+db)
	conn.Close()
	if err != nil {
		return nil, fmt.Errorf("create clickhouse database %s: %w", db, err)
	}
	opts.Auth.Database = db
	return open(ctx, opts)
}

// DropDatabase drops a database (tests clean up their own).
func DropDatabase(ctx context.Context, conn Conn, db string) error {
	if !identRe.MatchString(db) {
		return fmt.Errorf("clickhouse database name %q is not a plain identifier", db)
	}
	if err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+db); err != nil {
		return fmt.Errorf("drop clickhouse database %s: %w", db, err)
	}
	return nil
}

func open(ctx context.Context, opts *clickhouse.Options) (Conn, error) {
	conn, err := clickhouse.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("open clickhouse %v: %w", opts.Addr, err)
	}
	if err := conn.Ping(ctx); err != nil {
		conn.Close()
		return nil, fmt.Errorf("ping clickhouse %v: %w", opts.Addr, err)
	}
	return conn, nil
}

// Column runs a query that returns one column and collects its values.
func Column[T any](ctx context.Context, conn Conn, query string, args ...any) ([]T, error) {
	rows, err := conn.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		var v T
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
