package frontend

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ratioguard/ratioguard/tracker/policy"
)

func TestAnnouncePasskey(t *testing.T) {
	for _, tc := range []struct {
		path, pk string
		ok       bool
	}{
		{"/" + pk1 + "/announce", pk1, true},
		{"/x/announce", "x", true},
		{"//announce", "", false},
		{"/announce", "", false},
		{"/a/b/announce", "", false},
		{"/" + pk1 + "/announce/", "", false},
		{"/" + pk1 + "/scrape", "", false},
		{pk1 + "/announce", "", false},
	} {
		if pk, ok := announcePasskey(tc.path); pk != tc.pk || ok != tc.ok {
			t.Errorf("%q: %q %v, want %q %v", tc.path, pk, ok, tc.pk, tc.ok)
		}
	}
}

// The direct announce route: a plain and a percent-escaped passkey reach
// the core as the same member; other methods get 405 with a failure reason.
func TestAnnounceRoutes(t *testing.T) {
	e := newEnv(t, nil, policy.NewCache())
	q := "?" + announceQuery("-qB4650-aaaaaaaaaaaa", 6881, 0, "")
	escaped := "/" + pk1[:10] + "%61" + pk1[11:] + "/announce" // %61 is 'a' (pk1[10])
	for _, path := range []string{"/" + pk1 + "/announce", escaped} {
		code, body := e.get(path+q, "192.0.2.1:5000", nil)
		if _, failed := decodeDict(t, body)["failure reason"]; code != 200 || failed {
			t.Errorf("%s: %d %q, want an answer", path, code, body)
		}
		if ev := e.sink.last(); ev.UserId != 1 {
			t.Errorf("%s: event for user %d, want 1", path, ev.UserId)
		}
	}
	r := httptest.NewRequest(http.MethodPost, "/"+pk1+"/announce"+q, nil)
	r.RemoteAddr = "192.0.2.1:5000"
	w := httptest.NewRecorder()
	e.fe.Handler().ServeHTTP(w, r)
	if w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != "GET" || !strings.Contains(w.Body.String(), "only answers GET") {
		t.Errorf("POST: %d %q", w.Code, w.Body.String())
	}
}
