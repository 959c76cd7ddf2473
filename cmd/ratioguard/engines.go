package main

import (
	"context"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ratioguard/ratioguard/internal/chconn"
	"github.com/ratioguard/ratioguard/internal/config"
	"github.com/ratioguard/ratioguard/internal/pgconn"
)

// connectStores opens Postgres and ClickHouse for commands that read both;
// closeAll closes whichever opened.
func connectStores(ctx context.Context, eng config.Engines) (pg *pgxpool.Pool, ch chconn.Conn, closeAll func(), err error) {
	pg, err = pgconn.Connect(ctx, eng.PostgresURL)
	if err != nil {
		return nil, nil, func() {}, err
	}
	ch, err = chconn.Connect(ctx, eng.ClickHouseURL)
	if err != nil {
		pg.Close()
		return nil, nil, func() {}, err
	}
	return pg, ch, func() { ch.Close(); pg.Close() }, nil
}
