package reports_test

import (
	"context"
	"encoding/json"
	"html"
	"html/template"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/ratioguard/ratioguard/reports"
)

// signedIn is a browser signed in as mod.
func signedIn(t *testing.T, f fixture) *http.Client {
	t.Helper()
	return signedInAs(t, f, "mod")
}

// signedInAs is a browser signed in as name (password "correct horse battery").
func signedInAs(t *testing.T, f fixture, name string) *http.Client {
	t.Helper()
	c := browser(t)
	resp, err := c.PostForm(f.srv.URL+"/login", url.Values{"name": {name}, "password": {"correct horse battery"}})
	if err != nil {
		t.Fatal(err)
	}
	if page := body(t, resp); resp.StatusCode != http.StatusOK || !strings.Contains(page, "Sign out") {
		t.Fatalf("sign-in: %d %s", resp.StatusCode, page)
	}
	return c
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

func csrfOf(t *testing.T, page string) string {
	t.Helper()
	m := csrfRe.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no csrf token in %s", page)
	}
	return m[1]
}

// Error pages for signed-in staff show who is signed in and a way back, not
// the sign-in form.
func TestErrorPagesForSignedInStaff(t *testing.T) {
	f := setup(t)
	c := signedIn(t, f)
	for path, want := range map[string]int{
		"/reports/999999": http.StatusNotFound,
		"/reports/abc":    http.StatusBadRequest,
		"/no/such/page":   http.StatusNotFound,
	} {
		resp, err := c.Get(f.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		page := body(t, resp)
		if resp.StatusCode != want {
			t.Errorf("%s: status %d, want %d", path, resp.StatusCode, want)
		}
		if strings.Contains(page, `action="/login"`) || strings.Contains(page, "Staff sign-in") {
			t.Errorf("%s: error page for signed-in staff shows the sign-in form: %s", path, page)
		}
		if !strings.Contains(page, "mod (moderator)") || !strings.Contains(page, `<p class="error">`) {
			t.Errorf("%s: error page lacks the staff header or the message: %s", path, page)
		}
	}
	// Signed out, an unknown page offers a way to sign in, still no form posted elsewhere.
	resp, _ := browser(t).Get(f.srv.URL + "/no/such/page")
	if page := body(t, resp); resp.StatusCode != http.StatusNotFound || !strings.Contains(page, `href="/login"`) {
		t.Errorf("signed-out 404: %d %s", resp.StatusCode, page)
	}
	// A wrong password keeps the name typed.
	resp, _ = browser(t).PostForm(f.srv.URL+"/login", url.Values{"name": {"mod"}, "password": {"nope nope nope"}, "next": {"/reports/1"}})
	if page := body(t, resp); resp.StatusCode != http.StatusUnauthorized || !strings.Contains(page, `value="mod"`) || !strings.Contains(page, `value="/reports/1"`) {
		t.Errorf("failed sign-in: %d %s", resp.StatusCode, page)
	}
}

// After sign-in, next leads only to a path on this site.
func TestSignInNextStaysOnSite(t *testing.T) {
	f := setup(t)
	for next, want := range map[string]string{
		"/reports/1?status=open": "/reports/1?status=open",
		"":                       "/",
		"//evil.example/":        "/",
		`/\evil.example/`:        "/",
		`/\/evil.example/`:       "/",
		"/\t/evil.example/":      "/",
		"/\n/evil.example/":      "/",
		"https://evil.example/":  "/",
		"evil.example":           "/",
		`\\evil.example`:         "/",
	} {
		c := browser(t)
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		resp, err := c.PostForm(f.srv.URL+"/login", url.Values{"name": {"mod"}, "password": {"correct horse battery"}, "next": {next}})
		if err != nil {
			t.Fatal(err)
		}
		body(t, resp)
		if got := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || got != want {
			t.Errorf("next %q: %d Location %q, want %q", next, resp.StatusCode, got, want)
		}
	}
}

// No page or answer may be kept by a browser or a proxy.
func TestEveryAnswerIsNoStore(t *testing.T) {
	f := setup(t)
	c := signedIn(t, f)
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	anon := &http.Client{CheckRedirect: c.CheckRedirect}
	check := func(who string, resp *http.Response, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		body(t, resp)
		if got := resp.Header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("%s %s: %d Cache-Control %q", who, resp.Request.URL.Path, resp.StatusCode, got)
		}
	}
	for _, path := range []string{"/", "/reports/" + itoa(f.reportID), "/reports/999999", "/nope", "/api/reports", "/api/reports/" + itoa(f.reportID), "/login"} {
		resp, err := c.Get(f.srv.URL + path)
		check("staff", resp, err)
		resp, err = anon.Get(f.srv.URL + path)
		check("anonymous", resp, err)
	}
	resp, err := anon.Post(f.srv.URL+"/api/login", "application/json", strings.NewReader(`{"name":"mod","password":"correct horse battery"}`))
	check("anonymous", resp, err)
}

// A body over the limit is refused the same way whether the CSRF token comes
// in the form or in a header, and for the JSON API: 413, nothing changed.
func TestRequestSizeLimitIsTheSameForEveryToken(t *testing.T) {
	f := setup(t)
	c := signedIn(t, f)
	path := f.srv.URL + "/reports/" + itoa(f.reportID)
	resp, _ := c.Get(path)
	csrf := csrfOf(t, body(t, resp))
	huge := strings.Repeat("x", 100<<10)
	form := url.Values{"status": {"dismissed"}, "note": {huge}}

	withForm := url.Values{"csrf": {csrf}, "status": form["status"], "note": form["note"]}
	resp, err := c.PostForm(path+"/review", withForm)
	if err != nil {
		t.Fatal(err)
	}
	if body(t, resp); resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("form token: status %d, want 413", resp.StatusCode)
	}

	req, _ := http.NewRequest("POST", path+"/review", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-CSRF-Token", csrf)
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if body(t, resp); resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("header token: status %d, want 413", resp.StatusCode)
	}

	resp, _ = http.Post(f.srv.URL+"/api/login", "application/json", strings.NewReader(`{"name":"mod","password":"correct horse battery"}`))
	token := regexp.MustCompile(`"token":"([0-9a-f]+)"`).FindStringSubmatch(body(t, resp))
	if token == nil {
		t.Fatal("no api token")
	}
	req, _ = http.NewRequest("POST", f.srv.URL+"/api/reports/"+itoa(f.reportID)+"/review", strings.NewReader(`{"status":"dismissed","note":"`+huge+`"}`))
	req.Header.Set("Authorization", "Bearer "+token[1])
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if out := body(t, resp); resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(out, "larger than") {
		t.Errorf("bearer: status %d %s, want 413", resp.StatusCode, out)
	}
	if d, _ := f.store.Get(context.Background(), f.reportID); d.Status != "open" {
		t.Fatalf("an oversized review changed the report to %s", d.Status)
	}
}

func addReport(t *testing.T, f fixture, detector, kind, subject, severity, evidence string) int64 {
	t.Helper()
	var id int64
	err := f.pg.Pool.QueryRow(context.Background(), `INSERT INTO cheat_reports (detector, subject_kind, subject_id, window_start, window_end, score, severity, evidence)
		VALUES ($1, $2, $3, now() - interval '1 hour', now(), 0.5, $4, $5) RETURNING id`, detector, kind, subject, severity, evidence).Scan(&id)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

var olderRe = regexp.MustCompile(`<a href="([^"]*)">Older`)

// Paging keeps every filter, and offers no next page when none is left.
func TestPagingKeepsFiltersAndNeverLeadsToAnEmptyPage(t *testing.T) {
	f := setup(t)
	c := signedIn(t, f)
	for i, sev := range []string{"low", "critical", "low", "critical", "low", "critical", "low"} {
		addReport(t, f, "multi_ip", "user", itoa(int64(100+i)), sev, `{"summary":"x"}`)
	}
	// 4 critical reports: two pages of 2, the second the last.
	next := "/?status=open&severity=critical&limit=2"
	var pages [][]string
	for next != "" && len(pages) < 5 {
		resp, err := c.Get(f.srv.URL + next)
		if err != nil {
			t.Fatal(err)
		}
		page := body(t, resp)
		sev := regexp.MustCompile(`<span class="sev-(\w+)">`).FindAllStringSubmatch(page, -1)
		var got []string
		for _, m := range sev {
			got = append(got, m[1])
		}
		pages = append(pages, got)
		next = ""
		if m := olderRe.FindStringSubmatch(page); m != nil {
			next = strings.ReplaceAll(m[1], "&amp;", "&")
		}
	}
	if len(pages) != 2 {
		t.Fatalf("pages %v, want two pages of 2 critical reports", pages)
	}
	for i, p := range pages {
		if strings.Join(p, ",") != "critical,critical" {
			t.Errorf("page %d: severities %v, want only critical (the filter dropped?)", i+1, p)
		}
	}
	// 200 open reports in pages of 100: the second page is the last and says so.
	if _, err := f.pg.Pool.Exec(context.Background(), `INSERT INTO cheat_reports (detector, subject_kind, subject_id, window_start, window_end, score, severity, evidence)
		SELECT 'ghost_leecher', 'user', g::text, now() - interval '1 hour', now(), 0.5, 'low', '{}' FROM generate_series(1, 192) g`); err != nil {
		t.Fatal(err)
	}
	resp, _ := c.Get(f.srv.URL + "/")
	m := olderRe.FindStringSubmatch(body(t, resp))
	if m == nil {
		t.Fatal("page 1 of 200 open reports has no Older link")
	}
	resp, _ = c.Get(f.srv.URL + strings.ReplaceAll(m[1], "&amp;", "&"))
	if page := body(t, resp); olderRe.MatchString(page) || strings.Count(page, `<span class="sev-`) != 100 {
		t.Errorf("page 2 of 200 by 100: an Older link to an empty page, or not 100 rows")
	}
	// The JSON API pages the same way.
	resp, _ = c.Get(f.srv.URL + "/api/reports?severity=critical&limit=2")
	var first struct {
		Reports []struct{ ID int64 }
		Next    string
	}
	if err := json.Unmarshal([]byte(body(t, resp)), &first); err != nil || len(first.Reports) != 2 || first.Next == "" {
		t.Fatalf("api page 1: %+v %v", first, err)
	}
	resp, _ = c.Get(f.srv.URL + first.Next)
	var second struct {
		Reports []struct{ Severity string }
		Next    string
	}
	if err := json.Unmarshal([]byte(body(t, resp)), &second); err != nil || len(second.Reports) != 2 || second.Next != "" || second.Reports[0].Severity != "critical" {
		t.Fatalf("api page 2 from %s: %+v %v", first.Next, second, err)
	}
}

// The member filter finds reports about the member's passkey, however the
// detector named it, and no other member's.
func TestMemberFilterFindsPasskeyReports(t *testing.T) {
	f := setup(t)
	c := signedIn(t, f)
	ctx := context.Background()
	if _, err := f.pg.Pool.Exec(ctx, `INSERT INTO users (name, passkey) VALUES ('other', 'fedcba9876543210fedcba9876543210')`); err != nil {
		t.Fatal(err)
	}
	byKey := addReport(t, f, "leaked_passkey", "passkey", "0123456789abcdef0123456789abcdef", "high", `{"summary":"x","user_id":1}`)
	byName := addReport(t, f, "other_passkey_detector", "passkey", "user:1", "high", `{"summary":"x"}`)
	byToday := addReport(t, f, "third_detector", "passkey", "0123456789abcdef0123456789abcdef", "high", `{"summary":"x"}`)
	others := addReport(t, f, "leaked_passkey", "passkey", "fedcba9876543210fedcba9876543210", "high", `{"summary":"x","user_id":2}`)
	resp, _ := c.Get(f.srv.URL + "/api/reports?status=&user=1")
	var out struct {
		Reports []struct {
			ID       int64
			MemberID string `json:"member_id"`
		}
	}
	if err := json.Unmarshal([]byte(body(t, resp)), &out); err != nil {
		t.Fatal(err)
	}
	got := map[int64]string{}
	for _, r := range out.Reports {
		got[r.ID] = r.MemberID
	}
	for _, id := range []int64{f.reportID, byKey, byName, byToday} {
		if got[id] != "1" {
			t.Errorf("report %d missing from member 1's reports or not named as theirs: %v", id, got)
		}
	}
	if _, ok := got[others]; ok || len(got) != 4 {
		t.Errorf("member 1's reports: %v (report %d is member 2's)", got, others)
	}
	resp, _ = c.Get(f.srv.URL + "/?status=&user=1")
	page := body(t, resp)
	if strings.Contains(page, "0123456789abcdef0123456789abcdef") || !strings.Contains(page, "passkey 0123…") {
		t.Errorf("the queue shows a passkey in full, or not at all: %s", page)
	}
	resp, _ = c.Get(f.srv.URL + "/api/reports?user=abc")
	if body(t, resp); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("user=abc: %d", resp.StatusCode)
	}
}

// The sign-in limit counts per client behind trusted proxies (not per proxy,
// and never by a header an untrusted client sends), and per account.
func TestSignInLimitPerClientAndPerAccount(t *testing.T) {
	try := func(f fixture, from, name, password string) int {
		t.Helper()
		form := url.Values{"name": {name}, "password": {password}}
		req, _ := http.NewRequest("POST", f.srv.URL+"/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if from != "" {
			req.Header.Set("X-Forwarded-For", "198.51.100.7, "+from)
		}
		c := browser(t)
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body(t, resp)
		return resp.StatusCode
	}
	f := setupWith(t, reports.Options{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	// Five failures from one client behind the proxy (different names, so the
	// account limit is not what stops it) lock that client out, not the others.
	for i := range 5 {
		if code := try(f, "203.0.113.1", "nobody"+itoa(int64(i)), "wrong password"); code != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i, code)
		}
	}
	if code := try(f, "203.0.113.1", "mod", "correct horse battery"); code != http.StatusTooManyRequests {
		t.Errorf("6th try from the same client: %d, want 429", code)
	}
	if code := try(f, "203.0.113.2", "mod", "correct horse battery"); code != http.StatusSeeOther {
		t.Errorf("another client behind the same proxy: %d, want 303 (signed in)", code)
	}
	// Ten failures at one account from ten addresses lock the account, not the
	// addresses nor other accounts.
	for i := range 10 {
		if code := try(f, "203.0.113."+itoa(int64(10+i)), "Mod", "wrong password"); code != http.StatusUnauthorized {
			t.Fatalf("account failure %d: %d", i, code)
		}
	}
	if code := try(f, "203.0.113.99", "mod", "correct horse battery"); code != http.StatusTooManyRequests {
		t.Errorf("11th try at the account from a fresh address: %d, want 429", code)
	}
	if code := try(f, "203.0.113.10", "someone", "wrong password"); code != http.StatusUnauthorized {
		t.Errorf("another account from an address that failed once: %d, want 401", code)
	}

	// Without trusted proxies a client's X-Forwarded-For is not believed.
	g := setup(t)
	for i := range 5 {
		try(g, "203.0.113."+itoa(int64(i)), "nobody"+itoa(int64(i)), "wrong password")
	}
	if code := try(g, "203.0.113.50", "mod", "correct horse battery"); code != http.StatusTooManyRequests {
		t.Errorf("untrusted X-Forwarded-For escaped the limit: %d, want 429", code)
	}
}

// A long note (a pasted URL, a log line) wraps inside the page instead of
// stretching it: the note is marked up as such and the stylesheet wraps it,
// as it does every text in the page and the raw evidence.
func TestLongNotesWrap(t *testing.T) {
	f := setup(t)
	c := signedIn(t, f)
	long := strings.Repeat("https://example.org/very/long/path/", 80)
	if _, err := f.pg.Pool.Exec(context.Background(), `UPDATE cheat_reports SET note = $1 WHERE id = $2`, long, f.reportID); err != nil {
		t.Fatal(err)
	}
	resp, _ := c.Get(f.srv.URL + "/reports/" + itoa(f.reportID))
	page := body(t, resp)
	if !regexp.MustCompile(`<p class="note">[^<]*<span class="muted">Note:</span> ` + regexp.QuoteMeta(long)).MatchString(page) {
		t.Fatalf("the note is not in a .note paragraph: %s", page)
	}
	for _, rule := range []string{
		`(?s)\.note\{[^}]*white-space:pre-wrap[^}]*overflow-wrap:anywhere`,
		`(?s)main\{[^}]*overflow-wrap:anywhere`,
		`(?s)pre\{[^}]*white-space:pre-wrap`,
	} {
		if !regexp.MustCompile(rule).MatchString(page) {
			t.Errorf("stylesheet lacks %s", rule)
		}
	}
}

func hiddenInputs(page string) url.Values {
	out := url.Values{}
	for _, m := range regexp.MustCompile(`<input type="hidden" name="(\w+)" value="([^"]*)">`).FindAllStringSubmatch(page, -1) {
		out.Add(m[1], html.UnescapeString(m[2]))
	}
	return out
}

// A session that expires while a review is typed: sending it leads to the
// sign-in page (never a 405), and signing in shows the review again filled
// in, saved only when sent again.
func TestExpiredSessionKeepsTheReview(t *testing.T) {
	f := setup(t)
	c := signedIn(t, f)
	detailURL := f.srv.URL + "/reports/" + itoa(f.reportID)
	resp, _ := c.Get(detailURL)
	csrf := csrfOf(t, body(t, resp))
	if _, err := f.pg.Pool.Exec(context.Background(), `UPDATE staff_sessions SET expires_at = now() - interval '1 second'`); err != nil {
		t.Fatal(err)
	}
	note := "faked upload on 3 torrents; see <evidence> & ratio"
	resp, err := c.PostForm(detailURL+"/review", url.Values{"csrf": {csrf}, "status": {"confirmed"},
		"verdict": {"reverse_credit", "disable_leech"}, "reverse_uploaded": {"42949672960"}, "note": {note}})
	if err != nil {
		t.Fatal(err)
	}
	page := body(t, resp)
	if resp.StatusCode == http.StatusMethodNotAllowed || !strings.Contains(page, "Staff sign-in") {
		t.Fatalf("review with an expired session: %d %s", resp.StatusCode, page)
	}
	hidden := hiddenInputs(page)
	if hidden.Get("kept") == "" || hidden.Get("next") != "/reports/"+itoa(f.reportID) {
		t.Fatalf("the sign-in page does not keep the review: %v", hidden)
	}
	if strings.Contains(hidden.Get("kept"), csrf) {
		t.Fatal("the old CSRF token is carried through the sign-in")
	}
	if d, _ := f.store.Get(context.Background(), f.reportID); d.Status != "open" {
		t.Fatalf("the report changed to %s", d.Status)
	}

	login := url.Values{"name": {"mod"}, "password": {"correct horse battery"}}
	for k, v := range hidden {
		login[k] = v
	}
	resp, err = c.PostForm(f.srv.URL+"/login", login)
	if err != nil {
		t.Fatal(err)
	}
	page = body(t, resp)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "Report #"+itoa(f.reportID)) {
		t.Fatalf("after signing in again: %d %s", resp.StatusCode, page)
	}
	for _, want := range []string{
		`value="reverse_credit" checked`, `value="disable_leech" checked`, `value="42949672960"`,
		">" + template.HTMLEscapeString(note) + "</textarea>", "nothing was saved",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the review form after sign-in lacks %s", want)
		}
	}
	if strings.Contains(page, `value="disable_account" checked`) {
		t.Error("a verdict not chosen is checked")
	}
	if d, _ := f.store.Get(context.Background(), f.reportID); d.Status != "open" {
		t.Fatalf("signing in saved the review: %s", d.Status)
	}
	// Sent again with the new session: saved.
	resp, _ = c.PostForm(detailURL+"/review", url.Values{"csrf": {csrfOf(t, page)}, "status": {"confirmed"},
		"verdict": {"reverse_credit", "disable_leech"}, "reverse_uploaded": {"42949672960"}, "note": {note}})
	if page := body(t, resp); !strings.Contains(page, "status <strong>confirmed</strong> by mod") {
		t.Fatalf("sending the kept review: %d %s", resp.StatusCode, page)
	}
}

// A review refused by validation comes back with everything typed in place.
func TestValidationErrorKeepsWhatWasTyped(t *testing.T) {
	f := setup(t)
	c := signedIn(t, f)
	detailURL := f.srv.URL + "/reports/" + itoa(f.reportID)
	resp, _ := c.Get(detailURL)
	csrf := csrfOf(t, body(t, resp))
	resp, _ = c.PostForm(detailURL+"/review", url.Values{"csrf": {csrf}, "status": {"confirmed"},
		"verdict": {"reverse_credit", "reset_passkey"}, "reverse_uploaded": {"forty gigs"}, "reverse_downloaded": {"12"},
		"note": {"line one\nline two"}})
	page := body(t, resp)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "reverse_uploaded") {
		t.Fatalf("bad amount: %d %s", resp.StatusCode, page)
	}
	for _, want := range []string{`value="reverse_credit" checked`, `value="reset_passkey" checked`,
		`value="forty gigs"`, `value="12"`, ">line one\nline two</textarea>"} {
		if !strings.Contains(page, want) {
			t.Errorf("the refused review lost %q", want)
		}
	}
}

// Reversal amounts are what enforcement can apply: at most 2^63-1 bytes (a
// 20-digit amount used to be accepted and then stop every enforcement pass
// with "bigint out of range"), also written with a unit.
func TestReverseAmountsFitEnforcement(t *testing.T) {
	for in, want := range map[string]string{
		"42949672960":          "42949672960",
		" 9223372036854775807": "9223372036854775807",
		"835 MiB":              "875560960",
		"835MiB":               "875560960",
		"1.5 GiB":              "1610612736",
		"12 MB":                "12000000",
		"7 bytes":              "7",
		"0":                    "0",
		"9223372036854775808":  "",
		"99999999999999999999": "",
		"8 EiB":                "",
		"0.5 B":                "",
		"-5":                   "",
		"5 parsecs":            "",
		"1e9":                  "",
	} {
		rv := reports.Review{Status: "confirmed", Verdict: []string{"reverse_credit"}, ReverseUploaded: in}
		err := rv.Validate()
		switch {
		case want == "" && err == nil:
			t.Errorf("%q accepted as %s", in, rv.ReverseUploaded)
		case want != "" && err != nil:
			t.Errorf("%q refused: %v", in, err)
		case want != "" && rv.ReverseUploaded != want:
			t.Errorf("%q read as %s, want %s", in, rv.ReverseUploaded, want)
		}
	}
	// Through the API: refused, nothing stored.
	f := setup(t)
	resp, _ := http.Post(f.srv.URL+"/api/login", "application/json", strings.NewReader(`{"name":"mod","password":"correct horse battery"}`))
	token := regexp.MustCompile(`"token":"([0-9a-f]+)"`).FindStringSubmatch(body(t, resp))
	req, _ := http.NewRequest("POST", f.srv.URL+"/api/reports/"+itoa(f.reportID)+"/review",
		strings.NewReader(`{"status":"confirmed","verdict":["reverse_credit"],"reverse_uploaded":"99999999999999999999"}`))
	req.Header.Set("Authorization", "Bearer "+token[1])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if out := body(t, resp); resp.StatusCode != http.StatusBadRequest || !strings.Contains(out, "9223372036854775807") {
		t.Fatalf("20-digit amount: %d %s", resp.StatusCode, out)
	}
	if d, _ := f.store.Get(context.Background(), f.reportID); d.Status != "open" {
		t.Fatalf("stored: %+v", d)
	}
}

// Enter in a text field of the review form never confirms: the form's
// default button (its first submit button) is disabled, so implicit
// submission does nothing; and a review without a status is refused.
func TestEnterNeverConfirms(t *testing.T) {
	f := setup(t)
	c := signedIn(t, f)
	resp, _ := c.Get(f.srv.URL + "/reports/" + itoa(f.reportID))
	page := body(t, resp)
	form := regexp.MustCompile(`(?s)<form method="post" action="/reports/\d+/review">.*?</form>`).FindString(page)
	first := regexp.MustCompile(`<button[^>]*>`).FindString(form)
	if !strings.Contains(first, "disabled") || strings.Contains(first, `type="button"`) {
		t.Fatalf("the review form's default button is %q, not a disabled submit button", first)
	}
	if !strings.Contains(form, `<textarea name="note"`) {
		t.Error("the note is a one-line field (Enter in it submits)")
	}
	resp, _ = c.PostForm(f.srv.URL+"/reports/"+itoa(f.reportID)+"/review", url.Values{"csrf": {csrfOf(t, page)},
		"verdict": {"disable_leech"}, "note": {"half typed"}})
	if body(t, resp); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a review without a status: %d", resp.StatusCode)
	}
}

// Moderators review and act on reports; disabling a member's account and
// staff accounts are admins' (the route walk is in roles_internal_test.go).
func TestAdminsAloneDisableAccounts(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	if _, err := f.store.CreateStaff(ctx, "adm", "correct horse battery", "admin"); err != nil {
		t.Fatal(err)
	}
	mod := signedIn(t, f)
	detailURL := f.srv.URL + "/reports/" + itoa(f.reportID)
	resp, _ := mod.Get(detailURL)
	page := body(t, resp)
	if !regexp.MustCompile(`value="disable_account"[^>]*disabled`).MatchString(page) {
		t.Error("a moderator's form offers disable_account")
	}
	resp, _ = mod.PostForm(detailURL+"/review", url.Values{"csrf": {csrfOf(t, page)}, "status": {"confirmed"},
		"verdict": {"disable_account"}, "note": {"sold the account"}})
	if page := body(t, resp); resp.StatusCode != http.StatusForbidden || !strings.Contains(page, "needs an admin") {
		t.Fatalf("moderator gives disable_account: %d %s", resp.StatusCode, page)
	}
	if d, _ := f.store.Get(ctx, f.reportID); d.Status != "open" {
		t.Fatalf("a moderator's disable_account changed the report to %s", d.Status)
	}
	resp, _ = mod.Get(f.srv.URL + "/admin/staff")
	if body(t, resp); resp.StatusCode != http.StatusForbidden {
		t.Errorf("moderator on /admin/staff: %d", resp.StatusCode)
	}

	adm := signedInAs(t, f, "adm")
	resp, _ = adm.Get(detailURL)
	page = body(t, resp)
	resp, _ = adm.PostForm(detailURL+"/review", url.Values{"csrf": {csrfOf(t, page)}, "status": {"confirmed"},
		"verdict": {"disable_account"}, "note": {"sold the account"}})
	// One admin only proposes it: the report stays open for a second admin.
	if page := body(t, resp); !strings.Contains(page, "Awaiting a second admin") || !strings.Contains(page, "status <strong>open</strong>") {
		t.Fatalf("admin gives disable_account: %d %s", resp.StatusCode, page)
	}
	resp, _ = adm.Get(detailURL)
	page = body(t, resp)
	resp, _ = adm.PostForm(f.srv.URL+"/admin/reports/"+itoa(f.reportID)+"/second", url.Values{"csrf": {csrfOf(t, page)}})
	if page := body(t, resp); resp.StatusCode != http.StatusForbidden || !strings.Contains(page, "you proposed it") {
		t.Fatalf("the proposer seconds their own proposal: %d", resp.StatusCode)
	}
	if _, err := f.store.CreateStaff(ctx, "adm2", "correct horse battery", "admin"); err != nil {
		t.Fatal(err)
	}
	adm2 := signedInAs(t, f, "adm2")
	resp, _ = adm2.Get(detailURL)
	page = body(t, resp)
	if !strings.Contains(page, "Confirm as second admin") {
		t.Fatalf("the second admin is not offered to confirm: %s", page)
	}
	resp, _ = adm2.PostForm(f.srv.URL+"/admin/reports/"+itoa(f.reportID)+"/second", url.Values{"csrf": {csrfOf(t, page)}})
	if page := body(t, resp); !strings.Contains(page, "status <strong>confirmed</strong> by adm2") || !strings.Contains(page, "adm proposed") {
		t.Fatalf("second admin confirms: %d %s", resp.StatusCode, page)
	}
	if d, _ := f.store.Get(ctx, f.reportID); strings.Join(d.Verdict, ",") != "disable_account" || d.Proposer != "adm" {
		t.Fatalf("after the second admin: %+v", d)
	}
	var actions string
	if err := f.pg.Pool.QueryRow(ctx, `SELECT string_agg(actor || ' ' || action, ', ' ORDER BY id) FROM audit_log WHERE subject_kind = 'cheat_report'`).Scan(&actions); err != nil ||
		actions != "staff:adm report.propose, staff:adm2 report.second" {
		t.Errorf("audit of the two admins: %q %v", actions, err)
	}
	// The admin disables the moderator: their session ends at once, audited.
	resp, _ = adm.Get(f.srv.URL + "/admin/staff")
	page = body(t, resp)
	m := regexp.MustCompile(`<td>mod</td>(?s:.*?)action="/admin/staff/(\d+)/disable"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("staff page offers no disable: %s", page)
	}
	resp, _ = adm.PostForm(f.srv.URL+"/admin/staff/"+m[1]+"/disable", url.Values{"csrf": {csrfOf(t, page)}})
	if page := body(t, resp); resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "say why") {
		t.Errorf("disable without a reason: %d", resp.StatusCode)
	}
	resp, _ = adm.PostForm(f.srv.URL+"/admin/staff/"+m[1]+"/disable", url.Values{"csrf": {csrfOf(t, page)}, "reason": {"left the team"}})
	if page := body(t, resp); !strings.Contains(page, "<strong>disabled</strong>") {
		t.Fatalf("after disabling: %d %s", resp.StatusCode, page)
	}
	resp, _ = mod.Get(f.srv.URL + "/")
	if page := body(t, resp); !strings.Contains(page, "Staff sign-in") {
		t.Error("the disabled moderator's session still works")
	}
	var action, reason string
	if err := f.pg.Pool.QueryRow(ctx, `SELECT action, reason FROM audit_log WHERE subject_kind = 'staff' AND subject_id = $1`, m[1]).Scan(&action, &reason); err != nil || action != "staff.disable" || reason != "left the team" {
		t.Errorf("audit: %q %q %v", action, reason, err)
	}
}
