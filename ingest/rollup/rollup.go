// Package rollup owns the hourly rollups of the raw `announces` table
// (user_hour, torrent_hour, user_network_hour). They are not fed on the
// insert path: a Builder compares each hour's row count in every rollup with
// the raw table's and rebuilds the hours that differ, one whole hour at a
// time, into a staging table that then replaces the hour's partition
// (ALTER TABLE ... REPLACE PARTITION, atomic per table). A rollup hour is
// therefore always the aggregate of some snapshot of that hour's raw rows:
// never a row counted twice or missed once the builder has caught up, however
// often the ingest crashed or a build was interrupted. See
// docs/ARCHITECTURE.md, "Rollups".
package rollup

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"time"

	chgo "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/ratioguard/ratioguard/internal/chconn"
	"github.com/ratioguard/ratioguard/internal/sqlfile"
)

//go:embed sql/*.sql
var sqlFS embed.FS

var query = sqlfile.Queries(sqlFS)

// table is one rollup: its name (also the name of its build query) and the
// columns that query returns, in order.
type table struct {
	name    string
	columns []string
}

var tables = []table{
	{"user_hour", []string{"user_id", "hour", "announces", "refused", "delta_uploaded", "delta_downloaded",
		"credited_uploaded", "credited_downloaded", "seedtime_seconds", "networks", "user_agents"}},
	{"torrent_hour", []string{"torrent_id", "hour", "announces", "delta_uploaded", "delta_downloaded",
		"corrupt_max", "starts", "completions", "max_seeders", "max_leechers"}},
	{"user_network_hour", []string{"user_id", "network", "hour", "announces", "delta_uploaded", "delta_downloaded"}},
}

// Builder keeps the rollups of one database equal to its raw table.
// Several builders (the ingest, a detector pass) may run at once: each has
// its own staging tables, and two builds of one hour give the same result.
type Builder struct {
	conn  chconn.Conn
	log   *slog.Logger
	token string
	made  map[string]bool // staging tables this builder created
}

// New returns a builder writing through conn.
func New(conn chconn.Conn, log *slog.Logger) *Builder {
	if log == nil {
		log = slog.Default()
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	return &Builder{conn: conn, log: log.With("component", "rollup"), token: hex.EncodeToString(b[:]), made: map[string]bool{}}
}

// Hour is one hour whose rollups differ from the raw table, with the row
// counts that differ.
type Hour struct {
	Hour            time.Time `json:"hour"`
	Partition       uint64    `json:"-"`
	RawRows         uint64    `json:"raw_rows"`
	RawAccepted     uint64    `json:"raw_accepted"`
	UserHour        uint64    `json:"user_hour"`
	TorrentHour     uint64    `json:"torrent_hour"`
	UserNetworkHour uint64    `json:"user_network_hour"`
}

// stale reports whether table's count differs from the raw table's.
func (h Hour) stale(table string) bool {
	switch table {
	case "user_hour":
		return h.UserHour != h.RawRows
	case "torrent_hour":
		return h.TorrentHour != h.RawAccepted
	default:
		return h.UserNetworkHour != h.RawRows
	}
}

// Stale returns the hours from `from` on (zero: all) in which a rollup's
// row count differs from the raw table's.
func (b *Builder) Stale(ctx context.Context, from time.Time) ([]Hour, error) {
	if from.IsZero() || from.Unix() < 0 {
		from = time.Unix(0, 0)
	}
	rows, err := b.conn.Query(ctx, query("diff_hours"), chgo.Named("from", from.Unix()))
	if err != nil {
		return nil, fmt.Errorf("compare rollups with announces: %w", err)
	}
	defer rows.Close()
	var out []Hour
	for rows.Next() {
		var h Hour
		if err := rows.Scan(&h.Hour, &h.Partition, &h.RawRows, &h.RawAccepted, &h.UserHour, &h.TorrentHour, &h.UserNetworkHour); err != nil {
			return nil, fmt.Errorf("compare rollups with announces: %w", err)
		}
		h.Hour = h.Hour.UTC()
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("compare rollups with announces: %w", err)
	}
	return out, nil
}

// Result says what one Refresh did.
type Result struct {
	Stale   int           // hours found stale
	Rebuilt int           // (hour, table) pairs rebuilt
	Latest  time.Time     // the latest stale hour (zero if none)
	Took    time.Duration // wall time
}

// Refresh rebuilds every stale (hour, rollup) from `from` on (zero: all
// hours). It stops at the first error: what it rebuilt stays, the rest is
// found stale again next time.
func (b *Builder) Refresh(ctx context.Context, from time.Time) (Result, error) {
	start := time.Now()
	hours, err := b.Stale(ctx, from)
	if err != nil {
		return Result{}, err
	}
	res := Result{Stale: len(hours)}
	for _, h := range hours {
		for _, t := range tables {
			if !h.stale(t.name) {
				continue
			}
			if err := b.rebuild(ctx, t, h); err != nil {
				res.Took = time.Since(start)
				return res, err
			}
			res.Rebuilt++
		}
		res.Latest = h.Hour
	}
	res.Took = time.Since(start)
	if res.Rebuilt > 0 {
		b.log.Debug("rollups rebuilt", "hours", res.Stale, "rebuilt", res.Rebuilt, "took", res.Took)
	}
	return res, nil
}

// rebuild recomputes one hour of t in this builder's staging table and swaps
// it into t's partition of that hour.
func (b *Builder) rebuild(ctx context.Context, t table, h Hour) error {
	staging, err := b.staging(ctx, t.name)
	if err != nil {
		return err
	}
	part := fmt.Sprint(h.Partition)
	if err := b.conn.Exec(ctx, "ALTER TABLE "+staging+" DROP PARTITION "+part); err != nil {
		return fmt.Errorf("empty %s before building %s: %w", staging, h.Hour.Format(time.RFC3339), err)
	}
	insert := "INSERT INTO " + staging + " (" + strings.Join(t.columns, ", ") + ")\n" + query(t.name)
	if err := b.conn.Exec(ctx, insert, chgo.Named("hour", h.Hour.Unix())); err != nil {
		return fmt.Errorf("build %s of %s: %w", t.name, h.Hour.Format(time.RFC3339), err)
	}
	if err := b.conn.Exec(ctx, "ALTER TABLE "+t.name+" REPLACE PARTITION "+part+" FROM "+staging); err != nil {
		return fmt.Errorf("swap in %s of %s: %w", t.name, h.Hour.Format(time.RFC3339), err)
	}
	if err := b.conn.Exec(ctx, "ALTER TABLE "+staging+" DROP PARTITION "+part); err != nil {
		return fmt.Errorf("empty %s after building %s: %w", staging, h.Hour.Format(time.RFC3339), err)
	}
	return nil
}

// staging returns this builder's staging table for the rollup, creating it
// (same structure and partitioning) on first use.
func (b *Builder) staging(ctx context.Context, rollup string) (string, error) {
	name := "rollup_build_" + rollup + "_" + b.token
	if b.made[name] {
		return name, nil
	}
	if err := b.conn.Exec(ctx, "CREATE TABLE IF NOT EXISTS "+name+" AS "+rollup); err != nil {
		return "", fmt.Errorf("create staging table %s: %w", name, err)
	}
	b.made[name] = true
	return name, nil
}

// Close drops this builder's staging tables and those a crashed builder
// left more than an hour ago.
func (b *Builder) Close(ctx context.Context) error {
	var firstErr error
	drop := func(name string) {
		if err := b.conn.Exec(ctx, "DROP TABLE IF EXISTS "+name); err != nil && firstErr == nil {
			firstErr = fmt.Errorf("drop staging table %s: %w", name, err)
		}
	}
	for name := range b.made {
		drop(name)
		delete(b.made, name)
	}
	stale, err := b.leftovers(ctx, time.Hour)
	if err != nil {
		return err
	}
	for _, name := range stale {
		drop(name)
	}
	return firstErr
}

func (b *Builder) leftovers(ctx context.Context, olderThan time.Duration) ([]string, error) {
	names, err := chconn.Column[string](ctx, b.conn, query("stale_staging"), chgo.Named("older_than", int64(olderThan/time.Second)))
	if err != nil {
		return nil, fmt.Errorf("list leftover staging tables: %w", err)
	}
	return names, nil
}
