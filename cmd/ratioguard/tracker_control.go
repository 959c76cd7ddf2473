package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ratioguard/ratioguard/internal/config"
	"github.com/ratioguard/ratioguard/internal/ops"
	"github.com/ratioguard/ratioguard/internal/pgconn"
	"github.com/ratioguard/ratioguard/tracker/control"
	"github.com/ratioguard/ratioguard/tracker/control/api"
	"github.com/ratioguard/ratioguard/tracker/control/surface"
)

// Environment of the site control surface (secrets stay out of ps).
const (
	envTrackerSecret    = "RG_TRACKER_SECRET"     // Gazelle's TRACKER_SECRET
	envTrackerReportKey = "RG_TRACKER_REPORT_KEY" // Gazelle's TRACKER_REPORTKEY
	envUnit3DKey        = "RG_UNIT3D_TRACKER_KEY" // UNIT3D's TRACKER_KEY
)

// controlFlags are the tracker's flags for the site control surface.
type controlFlags struct {
	secret, reportKey, unit3d, allow *string
	api                              *bool
}

func registerControlFlags(fs *flag.FlagSet) *controlFlags {
	return &controlFlags{
		secret:    fs.String("site-secret", config.Getenv(envTrackerSecret, ""), "Gazelle's TRACKER_SECRET: serve Ocelot's /SECRET/update on the admin address (env "+envTrackerSecret+"; empty: off)"),
		reportKey: fs.String("site-report-key", config.Getenv(envTrackerReportKey, ""), "Gazelle's TRACKER_REPORTKEY: serve Ocelot's /KEY/report (env "+envTrackerReportKey+")"),
		unit3d:    fs.String("unit3d-key", config.Getenv(envUnit3DKey, ""), "UNIT3D's tracker key: serve UNIT3D-Announce's /announce/KEY/... on the admin address (env "+envUnit3DKey+"; empty: off)"),
		api:       fs.Bool("control-api", true, "serve the native JSON API (/api/v1, tokens from ratioguard api-token add) on the admin address"),
		allow:     fs.String("control-allow", "", "comma-separated CIDRs allowed to use the control surface (empty: any address that reaches the admin address)"),
	}
}

// tokenExpiryEvery is how often tokens that end on completion are checked.
const tokenExpiryEvery = 10 * time.Second

// mount puts the enabled control adapters on the tracker's admin router
// and, until ctx ends, expires the freeleech tokens that end on completion.
func (c *controlFlags) mount(ctx context.Context, adm *ops.Server, pool *pgxpool.Pool, tr control.Tracker, log *slog.Logger) error {
	allow, err := parsePrefixes(*c.allow)
	if err != nil {
		return usageError{strings.Replace(err.Error(), "--trusted-proxies", "--control-allow", 1)}
	}
	svc := control.New(pool, tr, log.With("component", "control"))
	var on []string
	adm.Mount(func(r chi.Router) { // the admin listener already serves
		on, err = surface.Mount(r, svc, surface.Config{SiteSecret: *c.secret, ReportKey: *c.reportKey,
			Unit3DKey: *c.unit3d, API: *c.api, Allow: allow}, log.With("component", "control"))
	})
	if err != nil {
		return usageError{err.Error()}
	}
	log.Info("site control surface on the admin address", "adapters", on, "allow", *c.allow)
	go svc.ExpireTokensEvery(ctx, tokenExpiryEvery)
	return nil
}

// runAPIToken creates a native API token and prints it once.
func runAPIToken(ctx context.Context, env *cliEnv, args []string) error {
	if len(args) == 0 || args[0] != "add" {
		return usageError{"usage: ratioguard api-token add NAME --scopes SCOPE,... [--json]"}
	}
	eng := config.FromEnv()
	fs := newFlagSet(env, "api-token add")
	eng.RegisterFlags(fs)
	scopes := fs.String("scopes", "", "comma-separated scopes: "+strings.Join(sortedScopes(), ", "))
	asJSON := fs.Bool("json", false, "print the token as JSON")
	if err := fs.Parse(interleave(args[1:])); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{"api-token add takes exactly one NAME"}
	}
	pool, err := pgconn.Connect(ctx, eng.PostgresURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	svc := control.New(pool, nil, env.log)
	secret, id, err := svc.CreateAPIToken(ctx, "cli", fs.Arg(0), config.SplitList(*scopes), api.Scopes)
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(env.stdout).Encode(map[string]any{"id": id, "name": fs.Arg(0), "scopes": config.SplitList(*scopes), "token": secret})
	}
	fmt.Fprintf(env.stdout, "API token %s (id %d): %s\n(shown once: send it as Authorization: Bearer TOKEN)\n", fs.Arg(0), id, secret)
	return nil
}

func sortedScopes() []string {
	out := make([]string, 0, len(api.Scopes))
	for s := range api.Scopes {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}
