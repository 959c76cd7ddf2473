// Package surface puts the site control surface on the tracker's admin
// router: Ocelot's protocol (Gazelle) when a site secret is set,
// UNIT3D-Announce's when a UNIT3D key is set, the native JSON API when
// enabled — all behind an optional IP allow-list (checked on the
// connection's address: the admin listener is not behind the public proxy).
package surface

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"

	"github.com/go-chi/chi/v5"

	"github.com/ratioguard/ratioguard/tracker/control"
	"github.com/ratioguard/ratioguard/tracker/control/api"
	"github.com/ratioguard/ratioguard/tracker/control/ocelot"
	"github.com/ratioguard/ratioguard/tracker/control/unit3d"
)

// Config selects the adapters.
type Config struct {
	// SiteSecret and ReportKey are Gazelle's TRACKER_SECRET and
	// TRACKER_REPORTKEY (Ocelot's protocol is off without a secret).
	SiteSecret, ReportKey string
	// Unit3DKey is UNIT3D's announce.external_tracker.key (off when empty).
	Unit3DKey string
	// API enables the native JSON API (/api/v1).
	API bool
	// Allow, when not empty, admits control requests only from these ranges.
	Allow []netip.Prefix
}

// Mount registers the enabled adapters on r and returns their names.
func Mount(r chi.Router, svc *control.Service, cfg Config, log *slog.Logger) ([]string, error) {
	if cfg.SiteSecret != "" && len(cfg.SiteSecret) < 16 {
		return nil, fmt.Errorf("the Gazelle site secret has %d characters: use at least 16 (Gazelle's are 32)", len(cfg.SiteSecret))
	}
	if cfg.ReportKey != "" && cfg.SiteSecret == "" {
		return nil, fmt.Errorf("a Gazelle report key without a site secret: set both")
	}
	var u3 *unit3d.Handler
	if cfg.Unit3DKey != "" {
		var err error
		if u3, err = unit3d.New(svc, cfg.Unit3DKey, log.With("adapter", "unit3d")); err != nil {
			return nil, err
		}
	}
	var on []string
	r.Group(func(r chi.Router) {
		if len(cfg.Allow) > 0 {
			r.Use(allowFrom(cfg.Allow, log))
		}
		if cfg.SiteSecret != "" {
			ocelot.New(svc, ocelot.Config{SiteSecret: cfg.SiteSecret, ReportKey: cfg.ReportKey}, log.With("adapter", "ocelot")).Mount(r)
			on = append(on, "ocelot")
		}
		if u3 != nil {
			u3.Mount(r)
			on = append(on, "unit3d")
		}
		if cfg.API {
			api.New(svc, log.With("adapter", "api")).Mount(r)
			on = append(on, "api")
		}
	})
	return on, nil
}

// allowFrom refuses requests from addresses outside allow.
func allowFrom(allow []netip.Prefix, log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ap, err := netip.ParseAddrPort(r.RemoteAddr)
			if err == nil {
				a := ap.Addr().Unmap()
				for _, p := range allow {
					if p.Contains(a) {
						next.ServeHTTP(w, r)
						return
					}
				}
			}
			log.Warn("control request from an address not allowed", "remote", r.RemoteAddr) // the path may hold a secret
			http.Error(w, "forbidden: this address may not use the control surface", http.StatusForbidden)
		})
	}
}
