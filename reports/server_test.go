package reports_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ratioguard/ratioguard/internal/testenv"
	"github.com/ratioguard/ratioguard/reports"
)

const evidence = `{"summary":"uploaded 40 GiB while the swarm had no leecher","user_id":1,"magnitude":4.2e10,
 "signals":[{"name":"impossible_rate","value":120000000,"threshold":12500000,"unit":"bytes/s","fired":true,"weight":0.5,"strength":1}],
 "torrents":[{"torrent_id":9,"size":1073741824,"uploaded":42949672960,"downloaded":0}],
 "series":[{"name":"upload rate","unit":"bytes/s","points":[{"t":"2026-11-01T00:00:00Z","v":1},{"t":"2026-11-01T01:00:00Z","v":120000000}]}],
 "last_seen":"2026-11-01T01:00:00Z"}`

type fixture struct {
	srv      *httptest.Server
	store    *reports.Store
	reportID int64
	pg       testenv.PG
}

func setup(t *testing.T) fixture {
	t.Helper()
	return setupWith(t, reports.Options{})
}

func setupWith(t *testing.T, opts reports.Options) fixture {
	t.Helper()
	pg := testenv.Postgres(t)
	ctx := context.Background()
	if _, err := pg.Pool.Exec(ctx, `INSERT INTO users (name, passkey) VALUES ('cheater', '0123456789abcdef0123456789abcdef')`); err != nil {
		t.Fatal(err)
	}
	var id int64
	err := pg.Pool.QueryRow(ctx, `INSERT INTO cheat_reports (detector, subject_kind, subject_id, window_start, window_end, score, severity, evidence)
		VALUES ('faked_upload', 'user', '1', now() - interval '1 hour', now(), 0.93, 'critical', $1) RETURNING id`, evidence).Scan(&id)
	if err != nil {
		t.Fatal(err)
	}
	store := reports.NewStore(pg.Pool)
	reports.CheapPasswordHashes(store)
	if _, err := store.CreateStaff(ctx, "mod", "correct horse battery", "moderator"); err != nil {
		t.Fatal(err)
	}
	s, err := reports.NewServer(store, slog.New(slog.NewTextHandler(io.Discard, nil)), opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return fixture{srv: srv, store: store, reportID: id, pg: pg}
}

func browser(t *testing.T) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 10 * time.Second}
}

func body(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func TestStaffReviewsAReportInTheBrowser(t *testing.T) {
	f := setup(t)
	c := browser(t)

	// Not signed in: redirected to the sign-in page.
	resp, err := c.Get(f.srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	if page := body(t, resp); !strings.Contains(page, "Staff sign-in") {
		t.Fatalf("unauthenticated / did not land on sign-in: %s", page)
	}
	// Wrong password refused with a clear message.
	resp, _ = c.PostForm(f.srv.URL+"/login", url.Values{"name": {"mod"}, "password": {"wrong password!"}})
	if page := body(t, resp); resp.StatusCode != http.StatusUnauthorized || !strings.Contains(page, "wrong name or password") {
		t.Fatalf("bad password: %d %s", resp.StatusCode, page)
	}
	resp, _ = c.PostForm(f.srv.URL+"/login", url.Values{"name": {"mod"}, "password": {"correct horse battery"}})
	list := body(t, resp)
	if !strings.Contains(list, "faked_upload") || !strings.Contains(list, `sev-critical`) {
		t.Fatalf("list page lacks the report: %s", list)
	}

	detailURL := f.srv.URL + "/reports/" + itoa(f.reportID)
	resp, _ = c.Get(detailURL)
	detail := body(t, resp)
	for _, want := range []string{"uploaded 40 GiB while the swarm had no leecher", "impossible_rate", "114.44 MiB/s", "<svg", "40.00 GiB"} {
		if !strings.Contains(detail, want) {
			t.Errorf("detail page lacks %q", want)
		}
	}
	csrf := regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`).FindStringSubmatch(detail)
	if csrf == nil {
		t.Fatal("no csrf token on the detail page")
	}

	review := url.Values{"status": {"confirmed"}, "verdict": {"reverse_credit", "disable_leech"},
		"reverse_uploaded": {"42949672960"}, "note": {"no leechers in swarm"}}
	// Without the CSRF token nothing changes.
	resp, _ = c.PostForm(detailURL+"/review", review)
	if body(t, resp); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("review without csrf: status %d", resp.StatusCode)
	}
	// Bad input: an unknown verdict is shown back, nothing changes.
	bad := url.Values{"csrf": {csrf[1]}, "status": {"confirmed"}, "verdict": {"burn_it"}}
	resp, _ = c.PostForm(detailURL+"/review", bad)
	if page := body(t, resp); resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, `unknown verdict &#34;burn_it&#34;`) {
		t.Fatalf("bad verdict: %d %s", resp.StatusCode, page)
	}
	if d, _ := f.store.Get(context.Background(), f.reportID); d.Status != "open" {
		t.Fatalf("bad review changed the report to %s", d.Status)
	}

	review.Set("csrf", csrf[1])
	resp, _ = c.PostForm(detailURL+"/review", review)
	if page := body(t, resp); !strings.Contains(page, "status <strong>confirmed</strong> by mod") {
		t.Fatalf("after confirm: %s", page)
	}
	d, err := f.store.Get(context.Background(), f.reportID)
	if err != nil {
		t.Fatal(err)
	}
	if d.Status != "confirmed" || d.ReverseUploaded != "42949672960" || strings.Join(d.Verdict, ",") != "reverse_credit,disable_leech" {
		t.Fatalf("stored review: %+v", d)
	}
	var actor, action string
	err = f.pg.Pool.QueryRow(context.Background(), `SELECT actor, action FROM audit_log WHERE subject_kind = 'cheat_report' AND subject_id = $1`, itoa(f.reportID)).Scan(&actor, &action)
	if err != nil || actor != "staff:mod" || action != "report.confirm" {
		t.Fatalf("audit row: %q %q %v", actor, action, err)
	}
	// A second review is a conflict, not a silent overwrite.
	resp, _ = c.PostForm(detailURL+"/review", url.Values{"csrf": {csrf[1]}, "status": {"dismissed"}, "note": {"oops"}})
	if body(t, resp); resp.StatusCode != http.StatusConflict {
		t.Fatalf("second review: status %d", resp.StatusCode)
	}
}

func TestJSONAPI(t *testing.T) {
	f := setup(t)
	c := &http.Client{Timeout: 10 * time.Second}

	resp, _ := c.Get(f.srv.URL + "/api/reports")
	if body(t, resp); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("unauthenticated api: %d", resp.StatusCode)
	}
	resp, _ = c.Post(f.srv.URL+"/api/login", "application/json", strings.NewReader(`{"name":"mod","password":"correct horse battery"}`))
	var login struct{ Token string }
	if err := json.Unmarshal([]byte(body(t, resp)), &login); err != nil || len(login.Token) != 64 {
		t.Fatalf("login: %v %q", err, login.Token)
	}
	do := func(method, path, payload string) (int, string) {
		req, _ := http.NewRequest(method, f.srv.URL+path, strings.NewReader(payload))
		req.Header.Set("Authorization", "Bearer "+login.Token)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, body(t, resp)
	}
	code, out := do("GET", "/api/reports?status=open", "")
	if code != 200 || !strings.Contains(out, `"detector":"faked_upload"`) {
		t.Fatalf("list: %d %s", code, out)
	}
	if code, out = do("GET", "/api/reports?status=bogus", ""); code != 400 || !strings.Contains(out, "status must be") {
		t.Fatalf("bad filter: %d %s", code, out)
	}
	path := "/api/reports/" + itoa(f.reportID)
	if code, out = do("GET", path, ""); code != 200 || !strings.Contains(out, `"impossible_rate"`) {
		t.Fatalf("detail: %d %s", code, out)
	}
	if code, out = do("GET", "/api/reports/999999", ""); code != 404 {
		t.Fatalf("missing report: %d %s", code, out)
	}
	for payload, want := range map[string]string{
		`{"status":"dismissed"}`:                                                      "say why",
		`{"status":"confirmed","verdict":["reverse_credit"]}`:                         "reverse_credit needs",
		`{"status":"confirmed","verdict":["disable_leech"],"x":1}`:                    "unknown field",
		`{"status":"confirmed","verdict":["reverse_credit"],"reverse_uploaded":"-5"}`: "whole number",
	} {
		if code, out = do("POST", path+"/review", payload); code != 400 || !strings.Contains(out, want) {
			t.Errorf("review %s: %d %s (want %q)", payload, code, out, want)
		}
	}
	if code, out = do("POST", path+"/review", `{"status":"dismissed","note":"seedbox, declared late"}`); code != 200 || !strings.Contains(out, `"status":"dismissed"`) {
		t.Fatalf("dismiss: %d %s", code, out)
	}
}

func TestStaffAccountRules(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	if _, err := f.store.CreateStaff(ctx, "mod", "another long password", "moderator"); err != reports.ErrStaffExists {
		t.Fatalf("duplicate staff: %v", err)
	}
	if _, err := f.store.CreateStaff(ctx, "x y", "another long password", "moderator"); err == nil {
		t.Fatal("name with a space accepted")
	}
	if _, err := f.store.CreateStaff(ctx, "short", "tiny", "admin"); err == nil {
		t.Fatal("short password accepted")
	}
	if _, err := f.store.Authenticate(ctx, "nobody", "whatever at all"); err != reports.ErrBadCredentials {
		t.Fatalf("unknown staff: %v", err)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
