package detectors

import (
	"context"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ratioguard/ratioguard/ingest/rollup"
	"github.com/ratioguard/ratioguard/internal/chconn"
)

// NewRunner wires a Runner for the given detectors: exemptions from
// Postgres and the config, the optional geo database, torrent-size sync and
// the report store, and the rollup builder that refreshes the rollups before
// each pass. Close the Runner when done.
func NewRunner(ctx context.Context, cfg *Config, pg *pgxpool.Pool, ch chconn.Conn, log *slog.Logger, ds []Detector) (*Runner, error) {
	ex, err := LoadExemptions(ctx, pg, cfg)
	if err != nil {
		return nil, err
	}
	geo, err := OpenGeoDB(cfg.GeoDB)
	if err != nil {
		return nil, err
	}
	env := &Env{CH: ch, PG: pg, Config: cfg, Exempt: ex, Geo: geo, Log: log}
	r := &Runner{Env: env, Detectors: ds}
	if ch != nil {
		r.Rollups = rollup.New(ch, log)
	}
	if pg != nil {
		r.Store = &Store{PG: pg, MaterialIncrease: cfg.MaterialIncrease}
		r.Torrents = &TorrentSync{PG: pg, CH: ch}
	}
	return r, nil
}

// ReloadExemptions re-reads exemptions (staff classes, seedboxes, allowlist).
func (r *Runner) ReloadExemptions(ctx context.Context) error {
	ex, err := LoadExemptions(ctx, r.Env.PG, r.Env.Config)
	if err != nil {
		return err
	}
	r.Env.Exempt = ex
	return nil
}
