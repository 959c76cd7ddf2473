package reports

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The OpenAPI document names every /api route the router serves, with the
// role it declares, and nothing else; every {id} path has its parameter,
// every write its responses for bad input and refusal.
func TestOpenAPIMatchesTheRouter(t *testing.T) {
	s, err := NewServer(&Store{}, slog.New(slog.NewTextHandler(io.Discard, nil)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		OpenAPI string `json:"openapi"`
		Paths   map[string]map[string]struct {
			Summary    string                     `json:"summary"`
			Role       string                     `json:"x-role"`
			Parameters []map[string]any           `json:"parameters"`
			Responses  map[string]json.RawMessage `json:"responses"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi version %q", doc.OpenAPI)
	}
	served := map[string]bool{}
	for _, rt := range s.routes() {
		if !strings.HasPrefix(rt.pattern, "/api/") {
			continue
		}
		key := strings.ToLower(rt.method) + " " + rt.pattern
		served[key] = true
		op, ok := doc.Paths[rt.pattern][strings.ToLower(rt.method)]
		if !ok {
			t.Errorf("%s is served but not in openapi.json", key)
			continue
		}
		role := rt.role
		if role == RolePublic {
			role = "public"
		}
		if op.Role != role {
			t.Errorf("%s: openapi.json says role %q, the router %q", key, op.Role, role)
		}
		if op.Summary == "" {
			t.Errorf("%s has no summary", key)
		}
		if strings.Contains(rt.pattern, "{id}") && len(op.Parameters) == 0 {
			t.Errorf("%s lacks its id parameter", key)
		}
		if _, ok := op.Responses["401"]; !ok && rt.role != RolePublic {
			t.Errorf("%s does not say it may answer 401", key)
		}
	}
	for path, ops := range doc.Paths {
		for method := range ops {
			if !served[method+" "+path] {
				t.Errorf("openapi.json has %s %s, which the router does not serve", method, path)
			}
		}
	}
	if len(served) < 30 {
		t.Errorf("only %d API routes", len(served))
	}
}

func TestOpenAPIIsServed(t *testing.T) {
	s, err := NewServer(&Store{}, slog.New(slog.NewTextHandler(io.Discard, nil)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	s.openAPIDoc(rec, httptest.NewRequest(http.MethodGet, "/api/openapi.json", nil))
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/json" || !strings.Contains(rec.Body.String(), `"/api/members/{id}"`) {
		t.Fatalf("served %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
}
