package api

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/ratioguard/ratioguard/tracker/control"
	"github.com/ratioguard/ratioguard/tracker/control/controltest"
	"github.com/ratioguard/ratioguard/tracker/internal/hashids"
)

// The OpenAPI document and the router agree: every route the router
// serves is documented with the scope the router checks, and nothing else
// is documented.
func TestOpenAPIMatchesRouter(t *testing.T) {
	r := chi.NewRouter()
	New(nil, slog.New(slog.NewTextHandler(io.Discard, nil))).Mount(r)
	served := map[string]bool{}
	err := chi.Walk(r, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		served[strings.ToLower(method)+" "+strings.TrimSuffix(route, "/")] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi version %q", doc.OpenAPI)
	}
	documented := map[string]bool{}
	scopeOf := map[string]string{}
	for path, ops := range doc.Paths {
		for method, raw := range ops {
			key := method + " " + path
			documented[key] = true
			var op struct {
				Scope    string                `json:"x-scope"`
				Security []map[string][]string `json:"security"`
			}
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatalf("%s: %v", key, err)
			}
			if op.Scope != "" && (len(op.Security) != 1 || len(op.Security[0]["bearer"]) != 1 || op.Security[0]["bearer"][0] != op.Scope) {
				t.Errorf("%s: security %v does not name its x-scope %s", key, op.Security, op.Scope)
			}
			scopeOf[key] = op.Scope
		}
	}
	var missing, extra []string
	for k := range served {
		if !documented[k] {
			missing = append(missing, k)
		}
	}
	for k := range documented {
		if !served[k] {
			extra = append(extra, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing) > 0 || len(extra) > 0 {
		t.Fatalf("routes not documented: %v; documented but not served: %v", missing, extra)
	}
	for _, rt := range routes {
		key := strings.ToLower(rt.method) + " " + Prefix + rt.pattern
		if scopeOf[key] != rt.scope {
			t.Errorf("%s: documented scope %q, the router checks %q", key, scopeOf[key], rt.scope)
		}
		if !Scopes[rt.scope] {
			t.Errorf("%s: scope %q is not a known scope", key, rt.scope)
		}
	}
}

func TestRefs(t *testing.T) {
	for in, want := range map[string]control.MemberRef{"12": {ID: 12}, "site:7": {SiteID: 7}, "passkey:abc": {Passkey: "abc"}} {
		if got, err := MemberRef(in); err != nil || got != want {
			t.Errorf("MemberRef(%q) = %+v, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "0", "-1", "x", "site:", "site:x", "site:-3"} {
		if _, err := MemberRef(bad); err == nil {
			t.Errorf("MemberRef(%q) accepted", bad)
		}
	}
	h := strings.Repeat("ab", 20)
	if got, err := TorrentRef(h); err != nil || hex.EncodeToString(got.InfoHash) != h {
		t.Errorf("TorrentRef(hex) = %+v, %v", got, err)
	}
	if got, err := TorrentRef("site:9"); err != nil || got.SiteID != 9 {
		t.Errorf("TorrentRef(site:9) = %+v, %v", got, err)
	}
	for _, bad := range []string{"", "zz" + h[2:], "abc", "site:0"} {
		if _, err := TorrentRef(bad); err == nil {
			t.Errorf("TorrentRef(%q) accepted", bad)
		}
	}
}

type client struct {
	t     *testing.T
	e     *controltest.Env
	token string
}

func (c client) do(method, path, body string, hdr ...string) (int, map[string]any) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.e.Admin.URL+Prefix+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var v map[string]any
	if len(b) > 0 && b[0] == '{' {
		if err := json.Unmarshal(b, &v); err != nil {
			c.t.Fatalf("%s %s: answer %q: %v", method, path, b, err)
		}
	}
	return resp.StatusCode, v
}

func (c client) must(code int, method, path, body string, hdr ...string) map[string]any {
	c.t.Helper()
	got, v := c.do(method, path, body, hdr...)
	if got != code {
		c.t.Fatalf("%s %s %s: %d %v, want %d", method, path, body, got, v, code)
	}
	return v
}

func start(t *testing.T) (*controltest.Env, client) {
	e := controltest.Start(t, func(r chi.Router, svc *control.Service) { New(svc, svc.Log()).Mount(r) })
	all := make([]string, 0, len(Scopes))
	for s := range Scopes {
		all = append(all, s)
	}
	secret, _, err := e.Service.CreateAPIToken(context.Background(), "test", "site", all, Scopes)
	if err != nil {
		t.Fatal(err)
	}
	return e, client{t: t, e: e, token: secret}
}

// The native API drives the tracker: each change takes effect at announce
// within 2 s.
func TestNativeAPI(t *testing.T) {
	e, c := start(t)
	const pk = "NativeNativeNativeNativeNative01"
	ih := [20]byte{0xaa, 1, 2, 3}
	ann := func(pk string, down, up uint64) (string, uint64, uint64) {
		t.Helper()
		f, ev := e.Do(controltest.Announce{Path: "/" + pk + "/announce", InfoHash: ih, Downloaded: down, Uploaded: up, Left: 10})
		return f, ev.GetCreditedDownloaded(), ev.GetCreditedUploaded()
	}
	m := c.must(201, "POST", "/members", `{"site_id": 42, "passkey": "`+pk+`", "class": "power-user"}`)
	if m["site_id"] != 42.0 || m["passkey"] != pk || m["class"] != "power-user" {
		t.Fatalf("created %v", m)
	}
	tor := c.must(201, "POST", "/torrents", `{"site_id": 900, "info_hash": "`+hex.EncodeToString(ih[:])+`", "name": "debian.iso", "size": 1000}`)
	if tor["name"] != "debian.iso" {
		t.Fatalf("torrent %v", tor)
	}
	e.Eventually("member and torrent at announce", func() bool { f, _, _ := ann(pk, 0, 0); return f == "" })

	// Class promotion: double upload for power-user.
	c.must(204, "PUT", "/classes/power-user", `{"download_percent": 100, "upload_percent": 200}`)
	up := uint64(0)
	e.Eventually("class promotion", func() bool { up += 100; _, _, u := ann(pk, 0, up); return u == 200 })

	// Personal freeleech, then a token, then neutral leech.
	down := uint64(0)
	c.must(204, "PUT", "/members/site:42/personal-freeleech", `{}`)
	e.Eventually("personal freeleech", func() bool { down += 100; _, d, _ := ann(pk, down, up); return d == 0 })
	c.must(204, "DELETE", "/members/site:42/personal-freeleech", ``)
	e.Eventually("personal freeleech removed", func() bool { down += 100; _, d, _ := ann(pk, down, up); return d == 100 })
	c.must(204, "PUT", "/torrents/site:900/tokens/site:42", ``)
	e.Eventually("token", func() bool { down += 100; _, d, _ := ann(pk, down, up); return d == 0 })
	c.must(204, "DELETE", "/torrents/site:900/tokens/site:42", ``)
	c.must(204, "PUT", "/torrents/"+hex.EncodeToString(ih[:])+"/promotion", `{"name": "neutral", "download_percent": 0, "upload_percent": 0}`)
	e.Eventually("neutral leech", func() bool {
		down += 100
		up += 100
		_, d, u := ann(pk, down, up)
		return d == 0 && u == 0
	})
	c.must(204, "PUT", "/torrents/site:900/promotion", `{"name": "none", "download_percent": 100, "upload_percent": 100}`)
	e.Eventually("promotion none", func() bool {
		down += 100
		up += 100
		_, d, u := ann(pk, down, up)
		return d == 100 && u == 200
	})

	// A site-wide window.
	now := time.Now().UTC()
	sp := c.must(201, "POST", "/site-promotions", `{"name": "weekend", "download_percent": 0, "upload_percent": 100, "starts_at": "`+
		now.Add(-time.Minute).Format(time.RFC3339)+`", "ends_at": "`+now.Add(time.Hour).Format(time.RFC3339)+`"}`)
	e.Eventually("site-wide window", func() bool { down += 100; _, d, _ := ann(pk, down, up); return d == 0 })
	c.must(204, "DELETE", "/site-promotions/"+jsonID(sp), ``)
	e.Eventually("site-wide window removed", func() bool { down += 100; _, d, _ := ann(pk, down, up); return d == 100 })

	// Leech right, a new passkey.
	c.must(200, "PATCH", "/members/site:42", `{"can_leech": false}`)
	e.Eventually("can_leech false", func() bool { f, _, _ := ann(pk, down, up); return strings.Contains(f, "leeching is disabled") })
	c.must(200, "PATCH", "/members/site:42", `{"can_leech": true}`)
	nm := c.must(200, "POST", "/members/site:42/passkey", ``)
	newPK, _ := nm["passkey"].(string)
	if newPK == pk || len(newPK) != 32 {
		t.Fatalf("new passkey %q", newPK)
	}
	e.Eventually("new passkey", func() bool {
		fOld, _, _ := ann(pk, down, up)
		fNew, _, _ := ann(newPK, down, up)
		return strings.Contains(fOld, "unknown passkey") && fNew == ""
	})

	// Client rules and seedboxes.
	cr := c.must(201, "POST", "/client-rules", `{"peer_id_prefix": "-ZZ", "allowed": false, "reason": "not here"}`)
	c.must(204, "DELETE", "/client-rules/"+jsonID(cr), ``)
	sb := c.must(201, "POST", "/members/site:42/seedboxes", `{"cidr": "192.0.2.0/24", "note": "hetzner"}`)
	if n := e.Count("SELECT count(*) FROM seedbox_ranges WHERE cidr = '192.0.2.0/24'"); n != 1 {
		t.Fatal("seedbox not declared")
	}
	c.must(204, "DELETE", "/seedboxes/"+jsonID(sb), ``)

	// Ledger adjustments: once per key.
	adj := `{"member": "site:42", "credited_uploaded": 1073741824, "reason": "bonus purchase: 1 GiB upload"}`
	first := c.must(201, "POST", "/ledger/adjustments", adj, "Idempotency-Key", "purchase-77")
	again := c.must(200, "POST", "/ledger/adjustments", adj, "Idempotency-Key", "purchase-77")
	if first["applied"] != true || again["applied"] != false || first["id"] != again["id"] {
		t.Fatalf("first %v, again %v", first, again)
	}
	c.must(409, "POST", "/ledger/adjustments", `{"member": "site:42", "credited_uploaded": 5, "reason": "other"}`, "Idempotency-Key", "purchase-77")
	if n := e.Count("SELECT count(*) FROM ledger_user_totals WHERE credited_uploaded = 1073741824"); n != 1 {
		t.Fatal("adjustment applied more or less than once")
	}

	// Deletion with a reason.
	c.must(204, "DELETE", "/torrents/site:900?reason=duplicate%20of%20901", ``)
	e.Eventually("deleted torrent", func() bool { f, _, _ := ann(newPK, down, up); return f == "unregistered torrent: duplicate of 901" })
	got := c.must(200, "GET", "/torrents/site:900", ``)
	if got["deleted_reason"] != "duplicate of 901" {
		t.Fatalf("torrent %v", got)
	}
	c.must(204, "DELETE", "/members/site:42", ``)
	e.Eventually("removed member", func() bool { f, _, _ := ann(newPK, down, up); return strings.Contains(f, control.RemovedReason) })
}

func jsonID(v map[string]any) string {
	id, _ := v["id"].(float64)
	return strconv.FormatInt(int64(id), 10)
}

// Tokens and bad input: a clear error, nothing changed.
func TestNativeAPIAuthAndBadInput(t *testing.T) {
	e, c := start(t)
	readOnly, _, err := e.Service.CreateAPIToken(context.Background(), "test", "reader", []string{"members:read"}, Scopes)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.Service.CreateAPIToken(context.Background(), "test", "bad", []string{"root"}, Scopes); err == nil {
		t.Fatal("unknown scope accepted")
	}
	c.must(201, "POST", "/members", `{"site_id": 1, "passkey": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA1"}`)
	before := e.Count("SELECT count(*) FROM audit_log")
	none := client{t: t, e: e}
	wrong := client{t: t, e: e, token: "rgt_wrong"}
	reader := client{t: t, e: e, token: readOnly}
	for _, tc := range []struct {
		c                  client
		method, path, body string
		code               int
		msg                string
	}{
		{none, "GET", "/members/1", ``, 401, "missing bearer token"},
		{wrong, "GET", "/members/1", ``, 401, "unknown or revoked token"},
		{reader, "POST", "/members", `{"site_id": 2}`, 403, "lacks scope members:write"},
		{c, "POST", "/members", `{"site_id": 2, "pasky": "x"}`, 400, `unknown field "pasky"`},
		{c, "POST", "/members", `{"site_id": 2} {}`, 400, "data after the JSON object"},
		{c, "POST", "/members", ``, 400, "empty body"},
		{c, "POST", "/members", `{"site_id": 2, "passkey": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA1"}`, 409, "passkey already exists"},
		{c, "POST", "/members", `{"site_id": 0}`, 400, "site id 0 must be positive"},
		{c, "GET", "/members/site:99", ``, 404, "member with site id 99"},
		{c, "GET", "/members/zz", ``, 400, "not an id, site:ID or passkey:PASSKEY"},
		{c, "PATCH", "/members/1", `{}`, 400, "nothing to change"},
		{c, "PATCH", "/members/1", `{"class": " x"}`, 400, "spaces around it"},
		{c, "POST", "/torrents", `{"info_hash": "abc"}`, 400, "not 40 hex digits"},
		{c, "PUT", "/torrents/site:5/promotion", `{"name": "x", "download_percent": 50, "upload_percent": 50}`, 400, "upload_percent 50"},
		{c, "POST", "/site-promotions", `{"name": "w", "download_percent": 0, "upload_percent": 100, "starts_at": "2026-01-02T00:00:00Z", "ends_at": "2026-01-01T00:00:00Z"}`, 400, "is not after"},
		{c, "POST", "/client-rules", `{"peer_id_prefix": "-QQ", "min_version": "x.y", "allowed": true}`, 400, "not a dotted version"},
		{c, "POST", "/members/1/seedboxes", `{"cidr": "300.0.0.0/8"}`, 400, "not a CIDR"},
		{c, "POST", "/ledger/adjustments", `{"member": "1", "credited_uploaded": 5, "reason": "x"}`, 400, "needs an idempotency key"},
		{c, "POST", "/ledger/adjustments", `{"member": "1", "credited_uploaded": -5, "reason": "x", "idempotency_key": "k1"}`, 400, "negative"},
		{c, "DELETE", "/client-rules/999", ``, 404, "client_rule 999"},
		{c, "GET", "/nothing", ``, 404, "no such API route"},
	} {
		code, v := tc.c.do(tc.method, tc.path, tc.body)
		msg, _ := v["error"].(string)
		if code != tc.code || !strings.Contains(msg, tc.msg) {
			t.Errorf("%s %s %s: %d %q, want %d with %q", tc.method, tc.path, tc.body, code, msg, tc.code, tc.msg)
		}
	}
	if after := e.Count("SELECT count(*) FROM audit_log"); after != before {
		t.Errorf("bad requests changed something: %d audit rows, was %d", after, before)
	}
	if n := e.Count("SELECT count(*) FROM ledger_adjustments"); n != 0 {
		t.Errorf("%d adjustments after bad requests", n)
	}
	code, _ := none.do("GET", "/openapi.json", ``)
	if code != 200 {
		t.Fatalf("openapi.json: %d", code)
	}
}

// The lists page by id through every member and torrent, with the
// filters a site needs; bad queries are a 400 naming the parameter.
func TestNativeAPILists(t *testing.T) {
	_, c := start(t)
	// Before the first request: the handler caches the tokens it read.
	reader, _, err := c.e.Service.CreateAPIToken(context.Background(), "test", "members-reader", []string{"members:read"}, Scopes)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 7; i++ {
		class := "user"
		if i%3 == 0 {
			class = "power-user"
		}
		c.must(201, "POST", "/members", fmt.Sprintf(`{"site_id": %d, "passkey": "ListListListListListListListLi%02d", "class": %q}`, 100+i, i, class))
	}
	c.must(200, "PATCH", "/members/site:102", `{"enabled": false, "disabled_reason": "staff"}`)
	c.must(204, "DELETE", "/members/site:104", ``)
	for i := 1; i <= 5; i++ {
		c.must(201, "POST", "/torrents", fmt.Sprintf(`{"site_id": %d, "info_hash": "%040x", "name": "t%d", "size": 1000}`, 900+i, i, i))
	}
	c.must(204, "DELETE", "/torrents/site:903?reason=dupe", ``)

	// siteIDs walks every page of path (limit 2) and returns the site ids.
	siteIDs := func(path string) []int {
		t.Helper()
		var out []int
		after := ""
		for pages := 0; ; pages++ {
			sep := "?"
			if strings.Contains(path, "?") {
				sep = "&"
			}
			v := c.must(200, "GET", path+sep+"limit=2"+after, ``)
			items, _ := v["items"].([]any)
			if len(items) > 2 || pages > 10 {
				t.Fatalf("%s: page of %d, %d pages", path, len(items), pages)
			}
			for _, it := range items {
				out = append(out, int(it.(map[string]any)["site_id"].(float64)))
			}
			next, more := v["next_after"].(float64)
			if !more {
				return out
			}
			after = fmt.Sprintf("&after=%d", int64(next))
		}
	}
	for path, want := range map[string][]int{
		"/members":                             {101, 102, 103, 104, 105, 106, 107},
		"/members?class=power-user":            {103, 106},
		"/members?enabled=false":               {102, 104},
		"/members?enabled=true&class=user":     {101, 105, 107},
		"/members?removed=true":                {104},
		"/members?removed=false&enabled=false": {102},
		"/torrents":                            {901, 902, 903, 904, 905},
		"/torrents?deleted=true":               {903},
		"/torrents?deleted=false":              {901, 902, 904, 905},
		"/members?class=nobody":                nil,
	} {
		if got := siteIDs(path); !slices.Equal(got, want) {
			t.Errorf("%s: site ids %v, want %v", path, got, want)
		}
	}
	v := c.must(200, "GET", "/members?limit=1000", ``)
	if items, _ := v["items"].([]any); len(items) != 7 || v["next_after"] != nil {
		t.Errorf("one page of 1000: %d items, next_after %v", len(items), v["next_after"])
	}
	v = c.must(200, "GET", "/torrents?deleted=true", ``)
	if items, _ := v["items"].([]any); len(items) != 1 || items[0].(map[string]any)["deleted_reason"] != "dupe" {
		t.Errorf("deleted torrents %v", v)
	}

	for _, tc := range []struct {
		c    client
		path string
		code int
		msg  string
	}{
		{c, "/members?limit=0", 400, "limit \"0\" is not within 1..1000"},
		{c, "/members?limit=1001", 400, "not within 1..1000"},
		{c, "/members?after=-1", 400, "after \"-1\" is not an id"},
		{c, "/members?enabled=maybe", 400, "enabled \"maybe\" is not true or false"},
		{c, "/members?class=", 400, "class is empty"},
		{c, "/members?deleted=true", 400, "unknown query parameter \"deleted\""},
		{c, "/members?class=a&class=b", 400, "class given 2 times"},
		{c, "/torrents?class=user", 400, "unknown query parameter \"class\""},
		{client{t: t, e: c.e, token: reader}, "/torrents", 403, "lacks scope torrents:read"},
	} {
		code, v := tc.c.do("GET", tc.path, ``)
		if msg, _ := v["error"].(string); code != tc.code || !strings.Contains(msg, tc.msg) {
			t.Errorf("GET %s: %d %q, want %d with %q", tc.path, code, msg, tc.code, tc.msg)
		}
	}
}

// NexusPHP's authkey announce form: once the site put the member's report
// secret, announce.php?authkey=TORRENT|USER|HASH (HASH as NexusPHP's
// TorrentRepository::getTrackerReportAuthKey makes it) is the member's, on
// announce and scrape, within 2 s; another hash, a secret reset and the
// secrets' removal are refused as an unknown passkey.
func TestNexusPHPAuthkey(t *testing.T) {
	e, c := start(t)
	ih := [20]byte{0xab, 9, 8, 7}
	m := c.must(201, "POST", "/members", `{"site_id": 4711, "passkey": "NexusNexusNexusNexusNexusNexus01"}`)
	c.must(201, "POST", "/torrents", `{"site_id": 900, "info_hash": "`+hex.EncodeToString(ih[:])+`", "name": "nexus.iso", "size": 1000}`)
	authkey := func(secret string) string {
		t.Helper()
		hash, err := hashids.New(secret).Encode(20230528) // date('Ymd') when the .torrent was downloaded
		if err != nil {
			t.Fatal(err)
		}
		return "900|4711|" + hash
	}
	// The authkey as the .torrent file has it: "|" unescaped.
	ann := func(ak string) (string, uint64) {
		t.Helper()
		f, ev := e.Do(controltest.Announce{Path: "/announce.php?authkey=" + ak, InfoHash: ih, Left: 10})
		return f, ev.GetUserId()
	}
	scrape := func(ak string) string {
		t.Helper()
		resp, err := http.Get(e.Announce + "/scrape.php?authkey=" + url.QueryEscape(ak) + "&info_hash=" + url.QueryEscape(string(ih[:])))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if f, _ := ann(authkey("OldSecretOldSec1")); !strings.Contains(f, "unknown passkey") {
		t.Fatalf("an authkey before any secret: %q", f)
	}
	c.must(204, "PUT", "/members/site:4711/report-secret", `{"secret": "OldSecretOldSec1"}`)
	e.Eventually("authkey accepted", func() bool { f, _ := ann(authkey("OldSecretOldSec1")); return f == "" })
	if _, user := ann(authkey("OldSecretOldSec1")); int64(user) != int64(m["id"].(float64)) {
		t.Fatalf("the authkey's announce is member %d's, want %v", user, m["id"])
	}
	if b := scrape(authkey("OldSecretOldSec1")); !strings.Contains(b, "5:files") {
		t.Fatalf("scrape with the authkey: %q", b)
	}
	if f, _ := ann(authkey("AnotherSecret123")); !strings.Contains(f, "unknown passkey") {
		t.Fatalf("another secret's hash: %q", f)
	}
	// NexusPHP's reset: a new secret for every torrent replaces the old.
	c.must(204, "PUT", "/members/site:4711/report-secret", `{"secret": "NewSecretNewSec2", "replace": true}`)
	e.Eventually("reset secret", func() bool {
		fOld, _ := ann(authkey("OldSecretOldSec1"))
		fNew, _ := ann(authkey("NewSecretNewSec2"))
		return strings.Contains(fOld, "unknown passkey") && fNew == ""
	})
	// A secret for this torrent wins over the one for every torrent.
	c.must(204, "PUT", "/members/site:4711/report-secret", `{"torrent_site_id": 900, "secret": "TorrentSecret900"}`)
	e.Eventually("torrent secret", func() bool {
		fAll, _ := ann(authkey("NewSecretNewSec2"))
		fTor, _ := ann(authkey("TorrentSecret900"))
		return strings.Contains(fAll, "unknown passkey") && fTor == ""
	})
	if n := e.Count("SELECT count(*) FROM audit_log WHERE action = 'control.report_secret.set' AND coalesce(after::text, '') NOT LIKE '%Secret%' AND coalesce(before::text, '') NOT LIKE '%Secret%'"); n != 3 {
		t.Errorf("%d audit rows without the secret, want 3", n)
	}
	c.must(204, "DELETE", "/members/site:4711/report-secret", ``)
	e.Eventually("secrets removed", func() bool { f, _ := ann(authkey("TorrentSecret900")); return strings.Contains(f, "unknown passkey") })
	for _, tc := range []struct{ body, msg string }{
		{`{"secret": ""}`, "secret is 0 bytes"},
		{`{"secret": "s", "torrent_site_id": -1}`, "torrent_site_id -1 is negative"},
		{`{"secrets": "s"}`, `unknown field "secrets"`},
	} {
		if code, v := c.do("PUT", "/members/site:4711/report-secret", tc.body); code != 400 || !strings.Contains(fmt.Sprint(v["error"]), tc.msg) {
			t.Errorf("PUT report-secret %s: %d %v, want 400 with %q", tc.body, code, v, tc.msg)
		}
	}
}
