package main

import (
	"context"
	"strings"

	"github.com/ratioguard/ratioguard/ingest/site"
	"github.com/ratioguard/ratioguard/internal/config"
	"github.com/ratioguard/ratioguard/schemas/events"
)

// envSiteURL and envSiteKey configure Gazelle's token-expiry callback (the
// secret stays out of the process list).
const (
	envSiteURL = "RG_SITE_URL"
	envSiteKey = "RG_SITE_KEY"
)

func runWriteback(ctx context.Context, env *cliEnv, args []string) error {
	eng := config.FromEnv()
	fs := newFlagSet(env, "writeback")
	eng.RegisterFlags(fs)
	siteName := fs.String("site", config.Getenv(config.EnvSite, ""), "the site application: gazelle or unit3d (env "+config.EnvSite+")")
	dsn := fs.String("site-dsn", config.Getenv(config.EnvSiteDSN, ""), "the site's database, a go-sql-driver/mysql DSN user:pass@tcp(host:3306)/db (env "+config.EnvSiteDSN+")")
	topic := fs.String("topic", events.Topic, "Kafka topic of announce events")
	flush := fs.Duration("flush-interval", site.DefaultFlushInterval, "longest an announce waits before the site sees it")
	batch := fs.Int("batch", 20_000, "max announces per site transaction")
	horizon := fs.Duration("dedupe-horizon", site.DefaultHorizon, "how long applied event ids are remembered; older announces are skipped")
	peerTimeout := fs.Duration("peer-timeout", site.DefaultPeerTimeout, "a peer silent this long leaves its torrent's seeders/leechers (the tracker drops it after twice the interval)")
	instance := fs.String("instance-id", "", "static consumer-group identity of this process; empty: dynamic")
	siteURL := fs.String("site-url", config.Getenv(envSiteURL, ""), "gazelle: the site's base URL for the token-expiry callback (tools.php); empty: expiries stay queued (env "+envSiteURL+")")
	adminAddr := adminFlag(fs, defaultWritebackAdmin)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if strings.TrimSpace(*siteName) == "" || strings.TrimSpace(*dsn) == "" {
		return usageError{"writeback: --site and --site-dsn are required (or " + config.EnvSite + " and " + config.EnvSiteDSN + ")"}
	}
	if err := site.ValidSite(*siteName); err != nil {
		return usageError{"writeback: " + err.Error()}
	}
	adm, stopAdmin, err := startAdmin(ctx, env, fs, "writeback", *adminAddr)
	if err != nil {
		return err
	}
	defer stopAdmin()
	met, err := site.NewMetrics(adm.Registry())
	if err != nil {
		return err
	}
	adm.Check("writeback", met.Ready)
	return site.Run(ctx, site.Config{
		Engines: eng, Site: *siteName, SiteDSN: *dsn, Topic: *topic, InstanceID: *instance,
		FlushInterval: *flush, MaxBatch: *batch, Horizon: *horizon, PeerTimeout: *peerTimeout,
		SiteURL: *siteURL, SiteKey: config.Getenv(envSiteKey, ""), Log: env.log, Metrics: met,
	})
}

// writebackConfigured tells `ratioguard all` to run the write-back: a site
// database is named in the environment or in --writeback-flags.
func writebackConfigured(args string) bool {
	return config.Getenv(config.EnvSiteDSN, "") != "" || strings.Contains(args, "site-dsn")
}
