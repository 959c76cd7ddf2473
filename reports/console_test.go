package reports_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ratioguard/ratioguard/reports"
)

func get(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body(t, resp)
}

func mustContain(t *testing.T, what, page string, wants ...string) {
	t.Helper()
	missing := false
	for _, w := range wants {
		if !strings.Contains(page, w) {
			t.Errorf("%s lacks %q", what, w)
			missing = true
		}
	}
	if missing {
		t.Logf("%s:\n%s", what, page)
	}
}

// The member page shows the member from the ledger, enforcement, reports,
// invites, seedboxes, allowlist and ClickHouse history, and its JSON twin
// the same figures.
func TestMemberPage(t *testing.T) {
	t.Parallel()
	s := setupSite(t)
	c := signedIn(t, s.fixture)
	code, page := get(t, c, s.srv.URL+"/members/1")
	if code != http.StatusOK {
		t.Fatalf("member page: %d %s", code, page)
	}
	mustContain(t, "member page", page,
		"cheater", "member #1", "passkey 0123…",
		"40.00 GiB", "50.00 GiB", "2.00 GiB", ">20.000<", ">25.000<", // raw and credited totals and ratios
		"ratio_watch", "required ratio 0.6", "hnr_warning", `<a href="/torrents/9">Big.Buck.Bunny.1080p</a>`,
		`<a href="/reports/`, "faked_upload",
		"-3.00 GiB", "manual fix of a client bug",
		`<a href="/members/2">bob</a>`, `<a href="/members/3">carol</a>`, "leeching blocked",
		"203.0.113.0/24", "hetzner box", "declared seedbox host",
		"198.51.100.7", "198.51.100.0/24", "2001:db8:1:2::5", "2001:db8:1:2::/64",
		`<a href="/members/4">dave</a>`,
		"<code>-qB4650-</code>", "4.6.5.0", "qBittorrent/4.6.5",
		"uploaded per day (raw)", "Networks (30 days, hourly)", "ratio_watch.start", "ratio 0.40 below 0.60")
	// The upload chart has a gap (day 4 missing): two lines.
	i := strings.Index(page, "uploaded per day (raw)</h3>")
	j := strings.Index(page[i:], "</svg>")
	if n := strings.Count(page[i:i+j], "<polyline"); n != 2 {
		t.Errorf("upload chart has %d lines, want 2 around the missing day", n)
	}
	// Passkeys are never shown in full.
	if strings.Contains(page, "0123456789abcdef0123456789abcdef") {
		t.Error("member page shows the full passkey")
	}

	code, out := get(t, c, s.srv.URL+"/api/members/1")
	var m struct {
		Name             string   `json:"name"`
		Passkey          string   `json:"passkey_prefix"`
		CreditedUploaded string   `json:"credited_uploaded"`
		CreditedRatio    *float64 `json:"credited_ratio"`
		Inviter          struct{ Name string }
		Invitees         []struct{ Name string }
		Activity         struct {
			IPs      []struct{ IP, Network string }
			Networks []struct {
				Network  string
				Uploaded uint64
			}
			Others []struct {
				Name    string
				Network string
			} `json:"others_on_networks"`
			Clients []struct {
				Client, Version string
			}
		}
	}
	if code != 200 || json.Unmarshal([]byte(out), &m) != nil {
		t.Fatalf("member api: %d %s", code, out)
	}
	if m.Name != "cheater" || m.Passkey != "0123…" || m.CreditedUploaded != "53687091200" || m.CreditedRatio == nil || *m.CreditedRatio != 25 ||
		m.Inviter.Name != "bob" || len(m.Invitees) != 1 || m.Invitees[0].Name != "carol" {
		t.Errorf("member api: %+v", m)
	}
	if len(m.Activity.Networks) != 2 || m.Activity.Networks[1].Network != "198.51.100.0/24" || m.Activity.Networks[1].Uploaded != uint64(41*gib) {
		t.Errorf("member api networks: %+v", m.Activity.Networks)
	}
	if len(m.Activity.IPs) != 2 || len(m.Activity.Others) != 1 || m.Activity.Others[0].Name != "dave" ||
		m.Activity.Others[0].Network != "198.51.100.0/24" || len(m.Activity.Clients) != 1 || m.Activity.Clients[0].Client != "-qB" {
		t.Errorf("member api activity: %+v", m.Activity)
	}
	if code, out := get(t, c, s.srv.URL+"/api/members/999"); code != 404 || !strings.Contains(out, "member not found") {
		t.Errorf("unknown member: %d %s", code, out)
	}
	if code, _ := get(t, c, s.srv.URL+"/members/abc"); code != 400 {
		t.Errorf("member id abc: %d", code)
	}
}

// Staff notes: added from the member page (with an audit row), an empty
// note is refused and what was typed is kept.
func TestMemberNotes(t *testing.T) {
	t.Parallel()
	s := setupSite(t)
	c := signedIn(t, s.fixture)
	_, page := get(t, c, s.srv.URL+"/members/1")
	csrf := csrfOf(t, page)
	resp, err := c.PostForm(s.srv.URL+"/members/1/notes", url.Values{"csrf": {csrf}, "body": {"   "}})
	if err != nil {
		t.Fatal(err)
	}
	if page := body(t, resp); resp.StatusCode != 400 || !strings.Contains(page, "the note is empty") {
		t.Fatalf("empty note: %d", resp.StatusCode)
	}
	resp, _ = c.PostForm(s.srv.URL+"/members/1/notes", url.Values{"csrf": {csrf}, "body": {"Asked on IRC about the seedbox; says it is a Hetzner box."}})
	page = body(t, resp)
	mustContain(t, "member page after a note", page, "Asked on IRC about the seedbox", "member.note")
}

// The torrent page: size, promotion, swarm now, balance per closed day
// (times cheated), the member whose claims unbalance it, snatches, reports.
func TestTorrentPage(t *testing.T) {
	t.Parallel()
	s := setupSite(t)
	c := signedIn(t, s.fixture)
	code, page := get(t, c, s.srv.URL+"/torrents/9")
	if code != 200 {
		t.Fatalf("torrent page: %d %s", code, page)
	}
	mustContain(t, "torrent page", page, siteTorrentN, "1.00 GiB", "00112233445566778899aabbccddeeff00112233",
		"<strong>1</strong> seeders, <strong>1</strong> leechers", "<strong>1</strong> snatches",
		`times cheated (closed days out of balance, last 30 days): <strong class="fired">2</strong>`,
		"out of balance", `<a href="/members/1">cheater</a>`, "41.00 GiB", "100%", "faked_upload",
		"seeders (hourly max)")
	code, out := get(t, c, s.srv.URL+"/api/torrents/9")
	var tj struct {
		Name         string
		TimesCheated int `json:"times_cheated"`
		Unbalancers  []struct {
			Name     string
			Uploaded uint64
		}
	}
	if code != 200 || json.Unmarshal([]byte(out), &tj) != nil || tj.TimesCheated != 2 || len(tj.Unbalancers) != 1 ||
		tj.Unbalancers[0].Name != "cheater" || tj.Unbalancers[0].Uploaded != uint64(41*gib) {
		t.Errorf("torrent api: %d %+v %s", code, tj, out)
	}
	// The report's evidence row links to the torrent by name; the member by name.
	_, detail := get(t, c, s.srv.URL+"/reports/"+itoa(s.reportID))
	mustContain(t, "report page", detail, `<a href="/torrents/9">Big.Buck.Bunny.1080p</a>`, `<a href="/members/1">cheater</a>`)
	_, list := get(t, c, s.srv.URL+"/")
	mustContain(t, "queue", list, `<a href="/members/1">cheater</a>`)
}

// Search finds members by name prefix, id and passkey (shown redacted),
// torrents by name part and info_hash, and who announced from an address
// or CIDR with the seedboxes and allowlist entries covering it.
func TestSearch(t *testing.T) {
	t.Parallel()
	s := setupSite(t)
	c := signedIn(t, s.fixture)
	api := func(q string) (int, string) { return get(t, c, s.srv.URL+"/api/search?q="+url.QueryEscape(q)) }
	for q, wants := range map[string][]string{
		"che":   {`"name":"cheater"`, `"kind":"name"`},
		"4":     {`"name":"dave"`, `"kind":"id"`},
		"bunny": {`"name":"Big.Buck.Bunny.1080p"`},
		"00112233445566778899AABBCCDDEEFF00112233": {`"kind":"info_hash"`, `"name":"Big.Buck.Bunny.1080p"`},
		"0123456789abcdef0123456789abcdef":         {`"kind":"passkey"`, `"query":"0123…"`, `"name":"cheater"`},
		"198.51.100.0/24":                          {`"range":"198.51.100.0/24"`, `"user_id":1`, `"user_id":4`, `"ip":"198.51.100.7"`, `"name":"dave"`},
		"203.0.113.9":                              {`"range":"203.0.113.9/32"`, `"cidr":"203.0.113.0/24"`, `"note":"hetzner box"`, `"reason":"declared seedbox host"`},
		"2001:db8:1:2::/64":                        {`"ip":"2001:db8:1:2::5"`, `"name":"cheater"`},
	} {
		code, out := api(q)
		if code != 200 {
			t.Errorf("search %q: %d %s", q, code, out)
			continue
		}
		mustContain(t, "search "+q, out, wants...)
		if strings.Contains(out, "0123456789abcdef0123456789abcdef") {
			t.Errorf("search %q echoes the full passkey", q)
		}
	}
	if code, out := api("50%_"); code != 200 || strings.Contains(out, `"name":"cheater"`) {
		t.Errorf("LIKE wildcards not escaped: %d %s", code, out)
	}
	if code, out := api(" "); code != 400 || !strings.Contains(out, "type a member name") {
		t.Errorf("empty search: %d %s", code, out)
	}
	// The page: a passkey goes straight to the member; a range lists who used it.
	resp, err := c.Get(s.srv.URL + "/search?q=0123456789abcdef0123456789abcdef")
	if err != nil {
		t.Fatal(err)
	}
	if page := body(t, resp); resp.Request.URL.Path != "/members/1" || strings.Contains(page, "0123456789abcdef0123456789abcdef") {
		t.Errorf("passkey search landed on %s", resp.Request.URL)
	}
	_, page := get(t, c, s.srv.URL+"/search?q=198.51.100.0%2F24")
	mustContain(t, "range search page", page, "Members seen on 198.51.100.0/24", `<a href="/members/4">dave</a>`, "198.51.100.9")
}

// Watch lists and dead swarms show what the enforcement tables and the
// ledger hold, by name.
func TestWatchListsAndDeadSwarms(t *testing.T) {
	t.Parallel()
	s := setupSite(t)
	c := signedIn(t, s.fixture)
	_, page := get(t, c, s.srv.URL+"/watch")
	mustContain(t, "watch lists", page, "Ratio watch (1)", `<a href="/members/1">cheater</a>`, "0.60",
		"Hit-and-run warnings (1 active)", `<a href="/torrents/9">Big.Buck.Bunny.1080p</a>`, "1.0 h",
		"Declared seedboxes (1)", "hetzner box", "Detector allowlist (1)", "declared seedbox host")
	code, out := get(t, c, s.srv.URL+"/api/watch")
	mustContain(t, "watch api", out, `"ratio_watch":[{"user_id":1,"name":"cheater","state":"watch"`, `"torrent_name":"Big.Buck.Bunny.1080p"`)
	if code != 200 {
		t.Errorf("watch api: %d", code)
	}
	_, page = get(t, c, s.srv.URL+"/dead?days=7")
	mustContain(t, "dead swarms", page, `<a href="/torrents/10">Dead.Swarm.Documentary</a>`, `<a href="/members/2">bob</a>`, "(seeded,",
		`<a href="/members/3">carol</a>`, "(snatched,")
	if strings.Contains(page, `<a href="/torrents/9">`) {
		t.Error("torrent 9 (seeded 10 minutes ago) listed as dead")
	}
	code, out = get(t, c, s.srv.URL+"/api/dead?days=7")
	mustContain(t, "dead api", out, `"name":"Dead.Swarm.Documentary"`, `"leechers_waiting":1`, `"snatches":1`)
	if code, out = get(t, c, s.srv.URL+"/api/dead?days=0"); code != 400 || !strings.Contains(out, "days must be") {
		t.Errorf("days=0: %d %s", code, out)
	}
	// Seeded 20 days ago: not dead over 30 days.
	if _, out = get(t, c, s.srv.URL+"/api/dead?days=30"); strings.Contains(out, "Dead.Swarm.Documentary") {
		t.Errorf("days=30 lists a torrent seeded 20 days ago: %s", out)
	}
}

// The audit log filters by actor, action, subject and time.
func TestAuditLogFilters(t *testing.T) {
	t.Parallel()
	s := setupSite(t)
	c := signedIn(t, s.fixture)
	code, out := get(t, c, s.srv.URL+"/api/audit?actor=enforce/ratio")
	if code != 200 || !strings.Contains(out, `"action":"ratio_watch.start"`) {
		t.Fatalf("by actor: %d %s", code, out)
	}
	for q, want := range map[string]bool{
		"action=ratio_watch":               true,
		"action=ratio_watch.start":         true,
		"action=ratio":                     false, // a prefix ends at a dot
		"subject_kind=user&subject_id=1":   true,
		"subject_kind=user&subject_id=2":   false,
		"actor=mod":                        false,
		"from=2000-01-01&until=2100-01-01": true,
		"until=2000-01-01":                 false,
	} {
		_, out := get(t, c, s.srv.URL+"/api/audit?"+q)
		if got := strings.Contains(out, "ratio_watch.start"); got != want {
			t.Errorf("audit ?%s: found %v, want %v: %s", q, got, want, out)
		}
	}
	if code, out := get(t, c, s.srv.URL+"/api/audit?from=yesterday"); code != 400 || !strings.Contains(out, "from must be a date") {
		t.Errorf("bad from: %d %s", code, out)
	}
	_, page := get(t, c, s.srv.URL+"/audit?subject_kind=user&subject_id=1")
	mustContain(t, "audit page", page, "enforce/ratio", `<a href="/members/1">member #1</a>`, "ratio 0.40 below 0.60")
}

// A review can be amended or reopened until enforce carries it out, each
// with a reason and an audit row; afterwards both are refused.
func TestAmendAndReopenAReview(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	c := signedIn(t, f)
	detailURL := f.srv.URL + "/reports/" + itoa(f.reportID)
	_, page := get(t, c, detailURL)
	csrf := csrfOf(t, page)
	post := func(path string, v url.Values) (int, string) {
		t.Helper()
		v.Set("csrf", csrf)
		resp, err := c.PostForm(detailURL+path, v)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, body(t, resp)
	}
	if code, page := post("/review", url.Values{"status": {"confirmed"}, "verdict": {"reverse_credit"}, "reverse_uploaded": {"40 GiB"}, "note": {"fake"}}); code != 200 ||
		!strings.Contains(page, "Amend or reopen this review") {
		t.Fatalf("confirm: %d %s", code, page)
	}
	// The amend form starts from the review as it stands.
	_, page = get(t, c, detailURL)
	mustContain(t, "amend form", page, `name="reverse_uploaded" value="42949672960"`)
	if code, page := post("/amend", url.Values{"status": {"confirmed"}, "verdict": {"reverse_credit"}, "reverse_uploaded": {"835 MiB"}}); code != 400 ||
		!strings.Contains(page, "say why the review is amended") || !strings.Contains(page, `value="835 MiB"`) {
		t.Errorf("amend without a reason: %d", code)
	}
	if code, page := post("/amend", url.Values{"status": {"confirmed"}, "verdict": {"reverse_credit", "disable_account"}, "reverse_uploaded": {"835 MiB"}, "reason": {"x"}}); code != 403 {
		t.Errorf("a moderator amends in disable_account: %d %s", code, page)
	}
	if code, page := post("/amend", url.Values{"status": {"confirmed"}, "verdict": {"reverse_credit", "disable_leech"}, "reverse_uploaded": {"835 MiB"},
		"note": {"fake, and again"}, "reason": {"only 835 MiB were on the faked torrent"}}); code != 200 || !strings.Contains(page, "report.amend") {
		t.Fatalf("amend: %d %s", code, page)
	}
	d, _ := f.store.Get(ctx, f.reportID)
	if d.ReverseUploaded != "875560960" || strings.Join(d.Verdict, ",") != "reverse_credit,disable_leech" {
		t.Fatalf("amended: %+v", d)
	}
	var before, after, reason string
	if err := f.pg.Pool.QueryRow(ctx, `SELECT before::text, after::text, reason FROM audit_log WHERE action = 'report.amend'`).Scan(&before, &after, &reason); err != nil ||
		!strings.Contains(before, `"reverse_uploaded": "42949672960"`) || !strings.Contains(after, `"reverse_uploaded": "875560960"`) || reason != "only 835 MiB were on the faked torrent" {
		t.Errorf("amend audit: %s → %s (%s) %v", before, after, reason, err)
	}
	if code, _ := post("/reopen", url.Values{}); code != 400 {
		t.Errorf("reopen without a reason: %d", code)
	}
	if code, page := post("/reopen", url.Values{"reason": {"the member sent logs"}}); code != 200 || !strings.Contains(page, "status <strong>open</strong>") {
		t.Fatalf("reopen: %d %s", code, page)
	}
	if d, _ := f.store.Get(ctx, f.reportID); d.Status != "open" || len(d.Verdict) != 0 || d.ReverseUploaded != "" {
		t.Fatalf("reopened: %+v", d)
	}
	// Once enforce has carried a review out, it can be neither amended nor reopened.
	post("/review", url.Values{"status": {"confirmed"}, "verdict": {"disable_leech"}, "note": {"again"}})
	if _, err := f.pg.Pool.Exec(ctx, `UPDATE cheat_reports SET enforced_at = now() WHERE id = $1`, f.reportID); err != nil {
		t.Fatal(err)
	}
	if code, page := post("/reopen", url.Values{"reason": {"late"}}); code != 409 || !strings.Contains(page, "reopening would not undo that") {
		t.Errorf("reopen after enforcement: %d", code)
	}
	if code, _ := post("/amend", url.Values{"status": {"dismissed"}, "note": {"x"}, "reason": {"late"}}); code != 409 {
		t.Errorf("amend after enforcement: %d", code)
	}
}

// The review form of a faked-upload report starts with the evidence's
// suspicious bytes as the reversal; previewing shows what enforce will do
// (the rows of enforce --dry-run) and saves nothing.
func TestReviewPlanBeforeConfirming(t *testing.T) {
	t.Parallel()
	f := setup(t)
	c := signedIn(t, f)
	detailURL := f.srv.URL + "/reports/" + itoa(f.reportID)
	_, page := get(t, c, detailURL)
	mustContain(t, "fresh review form", page, `name="reverse_uploaded" inputmode="numeric" value="42000000000"`, "pre-filled with the evidence's suspicious bytes (39.12 GiB)")
	resp, err := c.PostForm(detailURL+"/review", url.Values{"csrf": {csrfOf(t, page)}, "preview": {"1"}, "verdict": {"reverse_credit", "disable_leech"},
		"reverse_uploaded": {"40 GiB"}, "note": {"no leecher"}})
	if err != nil {
		t.Fatal(err)
	}
	page = body(t, resp)
	mustContain(t, "plan", page, "What enforce will do", "verdict/reverse_credit", "ledger adjustment: upload -40.00 GiB, download &#43;0 B",
		"verdict/disable_leech", "leech block", "Nothing is saved yet", `value="40 GiB"`, "no leecher")
	if d, _ := f.store.Get(context.Background(), f.reportID); d.Status != "open" {
		t.Fatalf("previewing changed the report: %s", d.Status)
	}
	tok := loginToken(t, f.srv.URL, "mod")
	code, out := apiAs(t, f.srv.URL, tok, "POST", "/api/reports/"+itoa(f.reportID)+"/plan", `{"status":"confirmed","verdict":["reset_passkey"]}`)
	if code != 200 || !strings.Contains(out, `"rule":"verdict/reset_passkey"`) || !strings.Contains(out, `"planned":"passkey reset"`) {
		t.Errorf("plan api: %d %s", code, out)
	}
	if code, out := apiAs(t, f.srv.URL, tok, "POST", "/api/reports/"+itoa(f.reportID)+"/plan", `{"status":"confirmed","verdict":["reverse_credit"],"reverse_uploaded":"99999999999999999999"}`); code != 400 {
		t.Errorf("plan with an amount over bigint: %d %s", code, out)
	}
}

// The queue counts open reports per detector and severity, and dismisses
// the selected reports with one note, each with its own audit row; a report
// reviewed meanwhile is said, not overwritten.
func TestQueueCountsAndBulkDismiss(t *testing.T) {
	t.Parallel()
	f := setup(t)
	a := addReport(t, f, "multi_ip", "user", "1", "high", `{}`)
	b := addReport(t, f, "multi_ip", "user", "2", "high", `{}`)
	addReport(t, f, "multi_ip", "user", "3", "low", `{}`)
	c := signedIn(t, f)
	_, page := get(t, c, f.srv.URL+"/")
	mustContain(t, "queue counts", page, `<a href="/?status=open&amp;detector=multi_ip&amp;severity=high">2</a>`,
		`<a href="/?status=open&amp;detector=faked_upload&amp;severity=critical">1</a>`, `form="bulk"`, "Dismiss selected")
	// Another moderator confirms b first.
	if _, err := f.store.Apply(context.Background(), b, reports.Staff{ID: 1, Name: "mod", Role: "moderator"},
		reports.Review{Status: "confirmed", Verdict: []string{"disable_leech"}}); err != nil {
		t.Fatal(err)
	}
	resp, err := c.PostForm(f.srv.URL+"/reports/bulk-dismiss", url.Values{"csrf": {csrfOf(t, page)}, "back": {"/?status=open"},
		"id": {itoa(a), itoa(b)}, "note": {"university NAT, known"}})
	if err != nil {
		t.Fatal(err)
	}
	page = body(t, resp)
	mustContain(t, "queue after bulk dismissal", page, "Dismissed 1 reports; 1 could not be")
	if d, _ := f.store.Get(context.Background(), a); d.Status != "dismissed" || d.Note != "university NAT, known" {
		t.Errorf("report a: %+v", d)
	}
	if d, _ := f.store.Get(context.Background(), b); d.Status != "confirmed" {
		t.Errorf("report b overwritten: %s", d.Status)
	}
	tok := loginToken(t, f.srv.URL, "mod")
	if code, out := apiAs(t, f.srv.URL, tok, "POST", "/api/reports/bulk-dismiss", `{"ids":[`+itoa(f.reportID)+`],"note":""}`); code != 400 || !strings.Contains(out, "say why") {
		t.Errorf("bulk dismissal without a note: %d %s", code, out)
	}
	code, out := apiAs(t, f.srv.URL, tok, "GET", "/api/reports/counts?status=", "")
	if code != 200 || !strings.Contains(out, `"multi_ip":{"high":2,"low":1}`) {
		t.Errorf("counts: %d %s", code, out)
	}
}

// The queue sorts by score, severity (then score) or age, and paging keeps
// the order and every filter.
func TestQueueSorts(t *testing.T) {
	t.Parallel()
	f := setup(t) // report 1: faked_upload, critical, 0.93
	ctx := context.Background()
	ids := map[string]int64{"first": f.reportID}
	for name, v := range map[string]struct {
		sev   string
		score float64
	}{"low-top": {"low", 0.99}, "high-mid": {"high", 0.5}, "high-top": {"high", 0.8}} {
		var id int64
		if err := f.pg.Pool.QueryRow(ctx, `INSERT INTO cheat_reports (detector, subject_kind, subject_id, window_start, window_end, score, severity)
			VALUES ('multi_ip', 'user', $1, now(), now(), $2, $3) RETURNING id`, name, v.score, v.sev).Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids[name] = id
	}
	tok := loginToken(t, f.srv.URL, "mod")
	order := func(q string) (string, string) {
		t.Helper()
		code, out := apiAs(t, f.srv.URL, tok, "GET", "/api/reports?"+q, "")
		var page struct {
			Reports []struct{ ID int64 }
			Next    string
		}
		if code != 200 || json.Unmarshal([]byte(out), &page) != nil {
			t.Fatalf("?%s: %d %s", q, code, out)
		}
		var names []string
		for _, r := range page.Reports {
			for n, id := range ids {
				if id == r.ID {
					names = append(names, n)
				}
			}
		}
		return strings.Join(names, ","), page.Next
	}
	for q, want := range map[string]string{
		"sort=score":    "low-top,first,high-top,high-mid",
		"sort=severity": "first,high-top,high-mid,low-top",
		"sort=oldest":   "first,low-top,high-mid,high-top",
	} {
		if q == "sort=oldest" {
			// map order made the inserts' ids random: oldest is by id
			want = ""
			for _, id := range []int64{1, 2, 3, 4} {
				for n, v := range ids {
					if v == id {
						want += n + ","
					}
				}
			}
			want = strings.TrimSuffix(want, ",")
		}
		if got, _ := order(q); got != want {
			t.Errorf("?%s: %s, want %s", q, got, want)
		}
	}
	got, next := order("sort=severity&limit=2")
	if got != "first,high-top" || !strings.Contains(next, "sort=severity") || !strings.Contains(next, "offset=2") || !strings.Contains(next, "limit=2") {
		t.Fatalf("first page by severity: %s next %s", got, next)
	}
	if got, next = order(strings.TrimPrefix(next, "/api/reports?")); got != "high-mid,low-top" || next != "" {
		t.Errorf("second page by severity: %s next %q", got, next)
	}
	if code, out := apiAs(t, f.srv.URL, tok, "GET", "/api/reports?sort=name", ""); code != 400 || !strings.Contains(out, "sort must be") {
		t.Errorf("unknown sort: %d %s", code, out)
	}
}

// A moderator claims an open report or gives it to another; the queue shows
// and filters by assignee; each change is audited; a reviewed report is not
// assigned.
func TestClaimAndAssign(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	if _, err := f.store.CreateStaff(ctx, "mod2", "correct horse battery", "moderator"); err != nil {
		t.Fatal(err)
	}
	other := addReport(t, f, "multi_ip", "user", "1", "high", `{}`)
	c := signedIn(t, f)
	_, page := get(t, c, f.srv.URL+"/")
	resp, err := c.PostForm(f.srv.URL+"/reports/"+itoa(f.reportID)+"/claim", url.Values{"csrf": {csrfOf(t, page)}, "back": {"/?status=open"}})
	if err != nil {
		t.Fatal(err)
	}
	page = body(t, resp)
	if resp.Request.URL.RawQuery != "status=open" {
		t.Errorf("claim went back to %s", resp.Request.URL)
	}
	_, mine := get(t, c, f.srv.URL+"/?status=open&assignee=mod")
	mustContain(t, "my reports", mine, `<a href="/reports/`+itoa(f.reportID)+`">`)
	if strings.Contains(mine, `<a href="/reports/`+itoa(other)+`">`) {
		t.Error("an unassigned report listed as mine")
	}
	tok := loginToken(t, f.srv.URL, "mod")
	if code, out := apiAs(t, f.srv.URL, tok, "POST", "/api/reports/"+itoa(other)+"/assign", `{"to":"mod2"}`); code != 200 || !strings.Contains(out, `"assignee":"mod2"`) {
		t.Errorf("assign to mod2: %d %s", code, out)
	}
	if code, out := apiAs(t, f.srv.URL, tok, "POST", "/api/reports/"+itoa(other)+"/assign", `{"to":"nobody-here"}`); code != 400 || !strings.Contains(out, "no enabled staff account") {
		t.Errorf("assign to an unknown name: %d %s", code, out)
	}
	_, none := apiAs(t, f.srv.URL, tok, "GET", "/api/reports?assignee=-", "")
	if strings.Contains(none, `"id":`+itoa(other)+`,`) || strings.Contains(none, `"id":`+itoa(f.reportID)+`,`) {
		t.Errorf("assigned reports listed as unassigned: %s", none)
	}
	var actions string
	if err := f.pg.Pool.QueryRow(ctx, `SELECT string_agg(action || ' ' || (after->>'assignee'), ', ' ORDER BY id) FROM audit_log`).Scan(&actions); err != nil ||
		actions != "report.assign mod, report.assign mod2" {
		t.Errorf("audit: %q %v", actions, err)
	}
	if _, err := f.store.Apply(ctx, other, reports.Staff{ID: 1, Name: "mod", Role: "moderator"}, reports.Review{Status: "dismissed", Note: "x"}); err != nil {
		t.Fatal(err)
	}
	if code, _ := apiAs(t, f.srv.URL, tok, "POST", "/api/reports/"+itoa(other)+"/claim", ""); code != 409 {
		t.Errorf("claiming a dismissed report: %d", code)
	}
}
