package site

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/ratioguard/ratioguard/ingest/consumer"
	"github.com/ratioguard/ratioguard/internal/config"
	"github.com/ratioguard/ratioguard/internal/kafkaconn"
	"github.com/ratioguard/ratioguard/internal/pgconn"
	"github.com/ratioguard/ratioguard/schemas/events"
)

// DefaultFlushInterval is how long an announce waits before the site sees
// it (Ocelot and UNIT3D-Announce flush every 3 s too).
const DefaultFlushInterval = 3 * time.Second

// Config says which site to write back to and how.
type Config struct {
	Engines config.Engines // Postgres (id mapping) and Kafka
	Site    string         // gazelle or unit3d
	SiteDSN string         // the site's database, a go-sql-driver/mysql DSN
	Topic   string         // default events.Topic
	// InstanceID gives the consumer a static group identity (see consumer.Config).
	InstanceID    string
	FlushInterval time.Duration // default DefaultFlushInterval
	MaxBatch      int           // announces per transaction; default 20,000
	Horizon       time.Duration // default DefaultHorizon
	PeerTimeout   time.Duration // default DefaultPeerTimeout
	// Gazelle's token-expiry callback: the site's base URL and secret;
	// without SiteURL expiries stay queued in the site's database.
	SiteURL, SiteKey string
	Log              *slog.Logger
	// Metrics, if set, records the write-back's work and readiness.
	Metrics *Metrics
}

// OpenSiteDB opens the site's database for the write-back: times in UTC,
// UPDATE counting matched rows (so a missing site row is noticed).
func OpenSiteDB(dsn string) (*sql.DB, error) {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("site DSN: %w", err)
	}
	cfg.ParseTime = true
	cfg.ClientFoundRows = true
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		return nil, fmt.Errorf("open site database: %w", err)
	}
	return db, nil
}

// Run writes the announces topic back into the site's database until ctx
// is canceled.
func Run(ctx context.Context, cfg Config) error {
	if cfg.Topic == "" {
		cfg.Topic = events.Topic
	}
	if cfg.FlushInterval <= 0 {
		cfg.FlushInterval = DefaultFlushInterval
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 20_000
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if _, err := mappingFor(cfg.Site); err != nil {
		return err
	}
	if cfg.SiteDSN == "" {
		return errors.New("write-back: the site's database DSN is required")
	}
	db, err := OpenSiteDB(cfg.SiteDSN)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.PingContext(ctx); err != nil {
		return fmt.Errorf("reach the site database: %w", err)
	}
	pool, err := pgconn.Connect(ctx, cfg.Engines.PostgresURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	w, err := New(cfg.Site, db, pool, cfg.Horizon, cfg.Log)
	if err != nil {
		return err
	}
	if cfg.PeerTimeout > 0 {
		w.PeerTimeout = cfg.PeerTimeout
	}
	w.Metrics = cfg.Metrics
	if err := w.EnsureTables(ctx); err != nil {
		return err
	}
	cfg.Metrics.siteDB(db, w.Name())
	brokers := cfg.Engines.Brokers()
	if err := kafkaconn.EnsureTopic(ctx, brokers, cfg.Topic+".dlq", 1); err != nil {
		return fmt.Errorf("write-back dead-letter topic: %w", err)
	}

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		w.housekeep(ctx, cfg)
	}()
	ccfg := consumer.Config{Brokers: brokers, Topic: cfg.Topic, MaxBatch: cfg.MaxBatch, Linger: cfg.FlushInterval,
		Group: "ratioguard-" + w.Name() + "-" + cfg.Topic, Log: cfg.Log}
	if cfg.Metrics != nil {
		ccfg.Monitor = cfg.Metrics.Monitor
	}
	if cfg.InstanceID != "" {
		ccfg.InstanceID = cfg.InstanceID + "-" + w.Name()
	}
	err = consumer.Run(ctx, ccfg, w)
	wg.Wait()
	s := w.Stats()
	cfg.Log.Info("write-back stopped", "applied", s.Applied, "duplicates", s.Duplicates,
		"member_without_site_id", s.UnknownMember, "torrent_without_site_id", s.UnknownTorrent,
		"older_than_horizon", s.TooOld, "site_rows_missing", s.MissingRows)
	return err
}

// housekeep sends queued token expiries every flush interval (Gazelle, when
// the site's URL is set) and prunes old event ids every hour.
func (w *Writer) housekeep(ctx context.Context, cfg Config) {
	var exp *Expirer
	if _, ok := w.m.(gazelle); ok && cfg.SiteURL != "" {
		exp = &Expirer{DB: w.db, Site: cfg.SiteURL, Key: cfg.SiteKey}
	}
	tick := time.NewTicker(cfg.FlushInterval)
	defer tick.Stop()
	lastPrune := time.Time{}
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if exp != nil {
			n, err := exp.Flush(ctx)
			if ctx.Err() == nil {
				w.Metrics.callback(n, err)
			}
			if err != nil && ctx.Err() == nil {
				w.log.Warn("token expiry callback failed; retrying at the next flush", "sent", n, "err", err)
			} else if n > 0 {
				w.log.Info("freeleech tokens expired on the site", "count", n)
			}
		}
		if time.Since(lastPrune) >= time.Hour {
			lastPrune = time.Now()
			if n, err := w.Prune(ctx); err != nil && ctx.Err() == nil {
				w.log.Warn("pruning applied event ids failed", "err", err)
			} else if n > 0 {
				w.log.Info("pruned applied event ids", "count", n)
			}
		}
	}
}
