package surface

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/ratioguard/ratioguard/tracker/control"
)

func TestMountAndAllowList(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := control.New(nil, nil, log)
	r := chi.NewRouter()
	r.Get("/metrics", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("metrics")) })
	on, err := Mount(r, svc, Config{SiteSecret: "0123456789abcdef0123456789abcdef", Unit3DKey: strings.Repeat("k", 32), API: true,
		Allow: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}}, log)
	if err != nil || strings.Join(on, ",") != "ocelot,unit3d,api" {
		t.Fatalf("mounted %v, %v", on, err)
	}
	get := func(path, remote string) (int, string) {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.RemoteAddr = remote
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		return w.Code, w.Body.String()
	}
	update := "/0123456789abcdef0123456789abcdef/update?action=nothing"
	if code, body := get(update, "192.0.2.1:4000"); code != 403 || !strings.Contains(body, "may not use the control surface") {
		t.Fatalf("from outside the allow-list: %d %q", code, body)
	}
	if code, body := get(update, "10.1.2.3:4000"); code != 400 || !strings.Contains(body, `unknown action "nothing"`) {
		t.Fatalf("from inside: %d %q", code, body)
	}
	if code, _ := get("/api/v1/openapi.json", "[::1]:4000"); code != 200 {
		t.Fatalf("openapi from ::1: %d", code)
	}
	if code, _ := get("/api/v1/openapi.json", "[2001:db8::1]:4000"); code != 403 {
		t.Fatalf("openapi from outside: %d", code)
	}
	if code, body := get("/metrics", "192.0.2.1:4000"); code != 200 || body != "metrics" {
		t.Fatalf("the admin listener's own routes are not behind the allow-list: %d %q", code, body)
	}
}

func TestMountRefusesWeakSecrets(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := control.New(nil, nil, log)
	for _, cfg := range []Config{{SiteSecret: "short"}, {ReportKey: "0123456789abcdef0123456789abcdef"}, {Unit3DKey: "short"}} {
		if _, err := Mount(chi.NewRouter(), svc, cfg, log); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
}
