package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/ratioguard/ratioguard/detectors"
	"github.com/ratioguard/ratioguard/internal/chconn"
	"github.com/ratioguard/ratioguard/internal/config"
	"github.com/ratioguard/ratioguard/internal/pgconn"
	"github.com/ratioguard/ratioguard/reports"
)

func runReports(ctx context.Context, env *cliEnv, args []string) error {
	eng := config.FromEnv()
	fs := newFlagSet(env, "reports")
	eng.RegisterFlags(fs)
	addr := fs.String("addr", config.Getenv(config.EnvReportsAddr, config.DefaultReportsAddr), "listen address (env "+config.EnvReportsAddr+")")
	secure := fs.Bool("secure-cookies", false, "mark session cookies Secure (serve behind HTTPS)")
	adminAddr := adminFlag(fs, defaultReportsAdmin)
	proxies := fs.String("trusted-proxies", "", "comma-separated CIDRs whose X-Forwarded-For / X-Real-IP are believed (the sign-in limit counts per client behind them)")
	detectorCfg := fs.String("detector-config", "", "detect's --config file (JSON; default built-in): the detector thresholds page shows its values and validates overrides over them")
	if err := fs.Parse(args); err != nil {
		return err
	}
	trusted, err := parsePrefixes(*proxies)
	if err != nil {
		return err
	}
	detectorFile, err := detectors.LoadConfig(*detectorCfg)
	if err != nil {
		return usageError{err.Error()}
	}
	adm, stopAdmin, err := startAdmin(ctx, env, fs, "reports", *adminAddr)
	if err != nil {
		return err
	}
	defer stopAdmin()
	pool, err := pgconn.Connect(ctx, eng.PostgresURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	adm.Check("reports", func(ctx context.Context) error {
		if err := pool.Ping(ctx); err != nil {
			return fmt.Errorf("postgres: %w", err)
		}
		return nil
	})
	opts := reports.Options{SecureCookies: *secure, TrustedProxies: trusted, DetectorConfig: detectorFile}
	// ClickHouse holds members' IP, client and daily history; without it the
	// staff UI still serves everything Postgres holds and says what is missing.
	if ch, err := chconn.Connect(ctx, eng.ClickHouseURL); err != nil {
		env.log.Warn("staff UI without ClickHouse history", "err", err)
	} else {
		defer ch.Close()
		opts.Activity = reports.NewActivity(ch)
	}
	srv, err := reports.NewServer(reports.NewStore(pool), env.log, opts)
	if err != nil {
		return err
	}
	hs := &http.Server{Addr: *addr, Handler: srv.Handler(), ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}
	errc := make(chan error, 1)
	go func() { errc <- hs.ListenAndServe() }()
	env.log.Info("staff UI listening", "addr", *addr)
	select {
	case err := <-errc:
		return fmt.Errorf("serve staff UI on %s: %w", *addr, err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("stop staff UI: %w", err)
	}
	return nil
}
