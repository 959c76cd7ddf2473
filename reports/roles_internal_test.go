package reports

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/ratioguard/ratioguard/internal/testenv"
)

// wantRole is the rule of roles, independent of the code under test: sign-in
// and health are public, /admin and /api/admin pages are admins', every
// other route is for moderators (and admins).
func wantRole(method, pattern string) string {
	switch method + " " + pattern {
	case "GET /healthz", "GET /login", "POST /login", "POST /api/login":
		return RolePublic
	}
	if pattern == "/admin" || strings.HasPrefix(pattern, "/admin/") || strings.HasPrefix(pattern, "/api/admin/") {
		return RoleAdmin
	}
	return RoleModerator
}

// Every route the router serves has the role the rule gives it, and answers
// by it: anonymous callers are sent to sign in, moderators are refused admin
// routes (403), admins may use every route.
func TestEveryRouteEnforcesItsRole(t *testing.T) {
	pg := testenv.Postgres(t)
	ctx := context.Background()
	store := NewStore(pg.Pool)
	CheapPasswordHashes(store)
	mod, err := store.CreateStaff(ctx, "mod", "correct horse battery", RoleModerator)
	if err != nil {
		t.Fatal(err)
	}
	adm, err := store.CreateStaff(ctx, "adm", "correct horse battery", RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	victim, err := store.CreateStaff(ctx, "victim", "correct horse battery", RoleModerator)
	if err != nil {
		t.Fatal(err)
	}
	var reportID int64
	if err := pg.Pool.QueryRow(ctx, `INSERT INTO cheat_reports (detector, subject_kind, subject_id, window_start, window_end, score, severity, evidence)
		VALUES ('faked_upload', 'user', '1', now() - interval '1 hour', now(), 0.9, 'critical', '{}') RETURNING id`).Scan(&reportID); err != nil {
		t.Fatal(err)
	}
	s, err := NewServer(store, slog.New(slog.NewTextHandler(io.Discard, nil)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := s.Handler()
	declared := map[string]string{}
	for _, rt := range s.routes() {
		declared[rt.method+" "+rt.pattern] = rt.role
	}
	walked := 0
	err = chi.Walk(h.(chi.Routes), func(method, pattern string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		walked++
		role := wantRole(method, pattern)
		if got, ok := declared[method+" "+pattern]; !ok || got != role {
			t.Errorf("%s %s is declared %q, the rule says %q", method, pattern, got, role)
		}
		id := strconv.FormatInt(reportID, 10)
		if strings.Contains(pattern, "/staff/") {
			id = strconv.FormatInt(victim.ID, 10)
		}
		path := strings.ReplaceAll(pattern, "{id}", id)
		call := func(who *Staff) *http.Response {
			body, ctype := "", ""
			if method == http.MethodPost {
				body, ctype = "{}", "application/json"
				if !strings.HasPrefix(path, "/api/") {
					body, ctype = "", "application/x-www-form-urlencoded"
				}
			}
			req := httptest.NewRequest(method, path, strings.NewReader(body))
			if ctype != "" {
				req.Header.Set("Content-Type", ctype)
			}
			if who != nil {
				token, err := store.NewSession(ctx, *who, sessionTTL)
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Authorization", "Bearer "+token)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			return rec.Result()
		}
		anon := call(nil)
		if role == RolePublic {
			if anon.StatusCode == http.StatusForbidden || (method == http.MethodGet && anon.StatusCode != http.StatusOK) {
				t.Errorf("public %s %s: anonymous got %d", method, pattern, anon.StatusCode)
			}
			return nil
		}
		switch {
		case strings.HasPrefix(path, "/api/") && anon.StatusCode == http.StatusUnauthorized:
		case method == http.MethodGet && anon.StatusCode == http.StatusSeeOther && strings.HasPrefix(anon.Header.Get("Location"), "/login?next="):
		case method == http.MethodPost && anon.StatusCode == http.StatusUnauthorized:
		default:
			t.Errorf("%s %s (%s): anonymous got %d %s, not sent to sign in", method, pattern, role, anon.StatusCode, anon.Header.Get("Location"))
		}
		wantMod := role == RoleModerator
		for _, c := range []struct {
			who   Staff
			allow bool
		}{{mod, wantMod}, {adm, true}} {
			got := call(&c.who).StatusCode
			if refused := got == http.StatusForbidden || got == http.StatusUnauthorized; refused == c.allow {
				t.Errorf("%s %s (%s): %s (%s) got %d", method, pattern, role, c.who.Name, c.who.Role, got)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if walked != len(declared) {
		t.Errorf("router serves %d routes, %d declared", walked, len(declared))
	}
	var admins int
	for _, role := range declared {
		if role == RoleAdmin {
			admins++
		}
	}
	if admins == 0 {
		t.Error("no admin route declared")
	}
}
