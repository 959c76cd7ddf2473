package reports_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ratioguard/ratioguard/tracker/policy"
)

// apiAs calls the JSON API with a bearer token.
func apiAs(t *testing.T, srv, token, method, path, payload string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, srv+path, strings.NewReader(payload))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body(t, resp)
}

func loginToken(t *testing.T, srv, name string) string {
	t.Helper()
	resp, err := http.Post(srv+"/api/login", "application/json", strings.NewReader(`{"name":"`+name+`","password":"correct horse battery"}`))
	if err != nil {
		t.Fatal(err)
	}
	var out struct{ Token string }
	if err := json.Unmarshal([]byte(body(t, resp)), &out); err != nil || out.Token == "" {
		t.Fatalf("login %s failed", name)
	}
	return out.Token
}

// Admins change client rules, seedbox ranges, site promotions and the
// detector allowlist from pages and the API, without SQL: each change is
// stored where the tracker and detectors read it and audited; bad input is
// refused with the reason and keeps what was typed.
func TestAdminSettings(t *testing.T) {
	t.Parallel()
	s := setupSite(t)
	ctx := context.Background()
	if _, err := s.store.CreateStaff(ctx, "adm", "correct horse battery", "admin"); err != nil {
		t.Fatal(err)
	}
	adm := signedInAs(t, s.fixture, "adm")
	_, page := get(t, adm, s.srv.URL+"/admin/clients")
	mustContain(t, "client rules", page, "<code>-qB</code>", "RatioMaster is a known ratio cheating tool")
	csrf := csrfOf(t, page)
	resp, _ := adm.PostForm(s.srv.URL+"/admin/clients", url.Values{"csrf": {csrf}, "peer_id_prefix": {"-FK"}, "min_version": {"not.a.version!"}})
	if page := body(t, resp); resp.StatusCode != 400 || !strings.Contains(page, `value="not.a.version!"`) {
		t.Errorf("bad client rule: %d", resp.StatusCode)
	}
	resp, _ = adm.PostForm(s.srv.URL+"/admin/clients", url.Values{"csrf": {csrf}, "peer_id_prefix": {"-FK"}, "reason": {"FakeClient fakes upload"}})
	page = body(t, resp)
	mustContain(t, "client rules after adding", page, "<code>-FK</code>", "FakeClient fakes upload")
	var allowed bool
	var ruleID int64
	if err := s.pg.Pool.QueryRow(ctx, `SELECT id, allowed FROM client_rules WHERE peer_id_prefix = '-FK'`).Scan(&ruleID, &allowed); err != nil || allowed {
		t.Fatalf("stored rule: allowed=%v %v", allowed, err)
	}
	resp, _ = adm.PostForm(s.srv.URL+"/admin/clients/"+itoa(ruleID)+"/delete", url.Values{"csrf": {csrf}})
	if page := body(t, resp); strings.Contains(page, "<code>-FK</code>") {
		t.Error("deleted rule still listed")
	}

	tok := loginToken(t, s.srv.URL, "adm")
	for path, payload := range map[string]string{
		"/api/admin/seedboxes":  `{"member": 4, "cidr": "192.0.2.0/28", "counts_for_ip_cap": true, "note": "dave's box"}`,
		"/api/admin/allowlist":  `{"cidr": "192.0.2.0/28", "reason": "university NAT"}`,
		"/api/admin/promotions": `{"name": "Freeleech weekend", "download_percent": 0, "upload_percent": 100, "starts_at": "2026-12-24T18:00:00Z", "ends_at": "2099-12-27T00:00:00Z"}`,
	} {
		if code, out := apiAs(t, s.srv.URL, tok, "POST", path, payload); code != 201 {
			t.Errorf("POST %s: %d %s", path, code, out)
		}
	}
	for path, want := range map[string]string{
		"/api/admin/seedboxes":  `"cidr":"192.0.2.0/28"`,
		"/api/admin/allowlist":  `"reason":"university NAT"`,
		"/api/admin/promotions": `"name":"Freeleech weekend"`,
	} {
		if code, out := apiAs(t, s.srv.URL, tok, "GET", path, ""); code != 200 || !strings.Contains(out, want) {
			t.Errorf("GET %s: %d %s", path, code, out)
		}
	}
	for payload, want := range map[string]string{
		`{"cidr": "192.0.2.0/28"}`:                           "say why",
		`{"member": 1, "cidr": "10.0.0.0/8", "reason": "x"}`: "not both",
		`{"cidr": "nonsense", "reason": "x"}`:                "CIDR or address",
		`{"cidr": "10.0.0.0/8", "reason": "x", "oops": 1}`:   `unknown field \"oops\"`,
	} {
		if code, out := apiAs(t, s.srv.URL, tok, "POST", "/api/admin/allowlist", payload); code != 400 || !strings.Contains(out, want) {
			t.Errorf("allowlist %s: %d %s (want %q)", payload, code, out, want)
		}
	}
	if code, out := apiAs(t, s.srv.URL, tok, "POST", "/api/admin/promotions", `{"name": "x", "starts_at": "2026-12-24T18:00:00Z", "ends_at": "2026-12-01T00:00:00Z"}`); code != 400 || !strings.Contains(out, "not after") {
		t.Errorf("promotion ending before it starts: %d %s", code, out)
	}
	if code, _ := apiAs(t, s.srv.URL, tok, "POST", "/api/admin/allowlist/999999/delete", ""); code != 404 {
		t.Errorf("deleting a missing entry: %d", code)
	}
	// The member page shows the new seedbox; the audit log the changes.
	_, page = get(t, adm, s.srv.URL+"/members/4")
	mustContain(t, "dave's page", page, "192.0.2.0/28", "dave&#39;s box")
	_, out := apiAs(t, s.srv.URL, tok, "GET", "/api/audit?actor=adm", "")
	mustContain(t, "audit of admin changes", out, `"action":"control.client_rule.add"`, `"action":"control.client_rule.delete"`,
		`"action":"control.seedbox.add"`, `"action":"allowlist.add"`, `"action":"control.site_promotion.add"`)
}

// Staff accounts: an admin resets a password (the old one stops working,
// sessions end) and ends sessions; API tokens act within their scopes and
// stop when revoked.
func TestStaffPasswordsSessionsAndTokens(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	if _, err := f.store.CreateStaff(ctx, "adm", "correct horse battery", "admin"); err != nil {
		t.Fatal(err)
	}
	adm := signedInAs(t, f, "adm")
	mod := signedIn(t, f)
	_, page := get(t, adm, f.srv.URL+"/admin/staff")
	m := regexp.MustCompile(`<td>mod</td>(?s:.*?)action="/admin/staff/(\d+)/password"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no reset for mod: %s", page)
	}
	resp, _ := adm.PostForm(f.srv.URL+"/admin/staff/"+m[1]+"/password", url.Values{"csrf": {csrfOf(t, page)}})
	page = body(t, resp)
	pw := regexp.MustCompile(`shown once: ([A-Za-z0-9_-]{16})`).FindStringSubmatch(page)
	if pw == nil {
		t.Fatalf("no new password shown: %s", page)
	}
	if _, page := get(t, mod, f.srv.URL+"/"); !strings.Contains(page, "Staff sign-in") {
		t.Error("mod's session survived the password reset")
	}
	if _, err := f.store.Authenticate(ctx, "mod", "correct horse battery"); err == nil {
		t.Error("the old password still works")
	}
	if _, err := f.store.Authenticate(ctx, "mod", pw[1]); err != nil {
		t.Errorf("the new password does not work: %v", err)
	}

	tok := loginToken(t, f.srv.URL, "adm")
	code, out := apiAs(t, f.srv.URL, tok, "POST", "/api/admin/tokens", `{"staff_id": `+m[1]+`, "name": "export", "scopes": ["read"], "expires_in_days": 30}`)
	var created struct {
		ID    int64
		Token string
	}
	if code != 201 || json.Unmarshal([]byte(out), &created) != nil || !strings.HasPrefix(created.Token, "rgt_") {
		t.Fatalf("create token: %d %s", code, out)
	}
	if code, out := apiAs(t, f.srv.URL, tok, "POST", "/api/admin/tokens", `{"staff_id": `+m[1]+`, "name": "x", "scopes": ["admin"]}`); code != 400 || !strings.Contains(out, "admin scope") {
		t.Errorf("admin scope for a moderator: %d %s", code, out)
	}
	if code, out := apiAs(t, f.srv.URL, created.Token, "GET", "/api/reports", ""); code != 200 || !strings.Contains(out, "faked_upload") {
		t.Errorf("read token reading: %d %s", code, out)
	}
	if code, out := apiAs(t, f.srv.URL, created.Token, "POST", "/api/reports/"+itoa(f.reportID)+"/review", `{"status":"dismissed","note":"x"}`); code != 403 || !strings.Contains(out, "scopes (read)") {
		t.Errorf("read token reviewing: %d %s", code, out)
	}
	if code, _ := apiAs(t, f.srv.URL, created.Token, "GET", "/api/admin/staff", ""); code != 403 {
		t.Errorf("moderator's token on an admin route: %d", code)
	}
	if code, _ := apiAs(t, f.srv.URL, tok, "POST", "/api/admin/tokens/"+itoa(created.ID)+"/revoke", ""); code != 200 {
		t.Errorf("revoke: %d", code)
	}
	if code, _ := apiAs(t, f.srv.URL, created.Token, "GET", "/api/reports", ""); code != 401 {
		t.Errorf("revoked token: %d", code)
	}
	code, out = apiAs(t, f.srv.URL, tok, "GET", "/api/admin/tokens", "")
	mustContain(t, "token list", out, `"name":"export"`, `"scopes":["read"]`, `"revoked_at"`, `"last_used_at"`)
	if strings.Contains(out, created.Token) || code != 200 {
		t.Error("the token list shows the token")
	}
	// Ending sessions: the admin's own second session ends.
	other := loginToken(t, f.srv.URL, "adm")
	code, out = apiAs(t, f.srv.URL, tok, "POST", "/api/admin/staff/"+m[1]+"/revoke", "")
	if code != 200 || !strings.Contains(out, `"sessions_ended"`) {
		t.Errorf("revoke sessions: %d %s", code, out)
	}
	if code, _ := apiAs(t, f.srv.URL, other, "GET", "/api/reports", ""); code != 200 {
		t.Errorf("another account's session ended: %d", code)
	}
}

// An admin bans a client version in the console; a running tracker's
// policy cache (tracker/policy, as `ratioguard tracker` runs it) refuses that
// client as soon as Postgres notifies it. The propagation is logged; the
// wait is bounded only so that a lost notification fails the test.
func TestClientRuleReachesTheTracker(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := f.store.CreateStaff(ctx, "adm", "correct horse battery", "admin"); err != nil {
		t.Fatal(err)
	}
	cache := policy.NewCache()
	syncer := policy.NewSyncer(f.pg.Pool, cache, policy.SyncConfig{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	go func() { _ = syncer.Run(ctx) }()
	for syncer.Ready() != nil {
		select {
		case <-ctx.Done():
			return
		case <-time.After(10 * time.Millisecond):
		}
	}
	peer, ua := []byte("-qB4650-abcdefghijkl"), "qBittorrent/4.6.5"
	if msg := cache.Clients().Check(peer, ua, 0); msg != "" {
		t.Fatalf("qBittorrent 4.6.5 refused before any change: %s", msg)
	}
	tok := loginToken(t, f.srv.URL, "adm")
	start := time.Now()
	if code, out := apiAs(t, f.srv.URL, tok, "POST", "/api/admin/clients",
		`{"peer_id_prefix": "-qB", "max_version": "4.6.5", "allowed": false, "reason": "qBittorrent up to 4.6.5 is not allowed, please upgrade"}`); code != 201 {
		t.Fatalf("add rule: %d %s", code, out)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		msg := cache.Clients().Check(peer, ua, 0)
		if msg != "" {
			if !strings.Contains(msg, "please upgrade") {
				t.Errorf("refused with %q", msg)
			}
			t.Logf("the tracker's policy cache obeyed the new rule %v after the admin's request", time.Since(start))
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the tracker never learnt the new client rule")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if msg := cache.Clients().Check([]byte("-qB4700-abcdefghijkl"), "qBittorrent/4.7.0", 0); msg != "" {
		t.Errorf("qBittorrent 4.7.0 refused: %s", msg)
	}
}
