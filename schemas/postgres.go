package schemas

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"math"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
)

//go:embed postgres/migrations/*.sql
var postgresFS embed.FS

// Applied describes one migration that ran.
type Applied struct {
	Engine  string `json:"engine"`
	Version int64  `json:"version"`
	Name    string `json:"name"`
}

// MigratePostgres applies every pending Postgres migration and returns what ran.
func MigratePostgres(ctx context.Context, pool *pgxpool.Pool) ([]Applied, error) {
	return MigratePostgresTo(ctx, pool, math.MaxInt64)
}

// MigratePostgresTo applies the pending Postgres migrations up to and
// including version (tests of a migration over data written under the
// schema before it) and returns what ran.
func MigratePostgresTo(ctx context.Context, pool *pgxpool.Pool, version int64) ([]Applied, error) {
	sub, err := fs.Sub(postgresFS, "postgres/migrations")
	if err != nil {
		return nil, fmt.Errorf("open embedded postgres migrations: %w", err)
	}
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, db, sub, goose.WithDisableGlobalRegistry(true),
		// Several engineers add migrations at once; one numbered below another
		// already applied on a long-lived database is still applied.
		goose.WithAllowOutofOrder(true))
	if err != nil {
		return nil, fmt.Errorf("load postgres migrations: %w", err)
	}
	results, err := p.UpTo(ctx, version)
	if err != nil {
		return nil, fmt.Errorf("apply postgres migrations: %w", err)
	}
	out := make([]Applied, 0, len(results))
	for _, r := range results {
		out = append(out, Applied{Engine: "postgres", Version: r.Source.Version, Name: r.Source.Path})
	}
	return out, nil
}
