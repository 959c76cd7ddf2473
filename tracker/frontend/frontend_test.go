package frontend

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ratioguard/ratioguard/schemas/events"
	"github.com/ratioguard/ratioguard/tracker/bencode"
	"github.com/ratioguard/ratioguard/tracker/core"
	"github.com/ratioguard/ratioguard/tracker/policy"
)

type memSink struct {
	mu  sync.Mutex
	evs []*events.Announce
}

func (s *memSink) Publish(ev *events.Announce) { s.mu.Lock(); s.evs = append(s.evs, ev); s.mu.Unlock() }
func (s *memSink) last() *events.Announce {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.evs[len(s.evs)-1]
}

type env struct {
	t    *testing.T
	fe   *Frontend
	pol  *policy.Cache
	sink *memSink
	reg  *prometheus.Registry
}

const pk1, pk2 = "0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210"

var ih = [20]byte{0xde, 0xad, 0xbe, 0xef, '%', '&', '=', '+', ' ', 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}

func newEnv(t *testing.T, pol core.Policy, cache *policy.Cache) *env {
	e := &env{t: t, pol: cache, sink: &memSink{}}
	cache.PutUser(pk1, &core.User{ID: 1, Enabled: true, CanLeech: true})
	cache.PutUser(pk2, &core.User{ID: 2, Enabled: true, CanLeech: true})
	cache.PutTorrent(ih, &core.Torrent{ID: 5, Promotion: core.NoPromotion})
	if pol == nil {
		pol = cache
	}
	c := core.New(core.Config{Interval: 60 * time.Second, MinInterval: 30 * time.Second}, pol, e.sink, core.SystemClock{})
	e.reg = prometheus.NewRegistry()
	fe, err := New(c, Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16")}}, e.reg,
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	e.fe = fe
	return e
}

func (e *env) get(path, remote string, hdr map[string]string) (int, string) {
	e.t.Helper()
	r := httptest.NewRequest(http.MethodGet, path, nil)
	r.RemoteAddr = remote
	r.Header.Set("User-Agent", "qBittorrent/4.6.5")
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	e.fe.Handler().ServeHTTP(w, r)
	return w.Code, w.Body.String()
}

func announceQuery(pid string, port int, left int, extra string) string {
	return "info_hash=" + url.QueryEscape(string(ih[:])) + "&peer_id=" + url.QueryEscape(pid) +
		fmt.Sprintf("&port=%d&uploaded=0&downloaded=0&left=%d", port, left) + extra
}

func decodeDict(t *testing.T, body string) map[string]any {
	t.Helper()
	v, err := bencode.Decode([]byte(body))
	if err != nil {
		t.Fatalf("answer %q is not bencoded: %v", body, err)
	}
	return v.(map[string]any)
}

func TestAnnounceCompactAndDictionary(t *testing.T) {
	e := newEnv(t, nil, policy.NewCache())
	code, body := e.get("/"+pk1+"/announce?"+announceQuery("-qB4650-aaaaaaaaaaaa", 6881, 0, "&compact=1&key=K1&numwant=80"), "192.0.2.1:5000", nil)
	d := decodeDict(t, body)
	if code != 200 || d["complete"] != int64(1) || d["interval"] != int64(60) || d["min interval"] != int64(30) || d["peers"] != "" {
		t.Fatalf("first answer %d %v", code, d)
	}
	if ev := e.sink.last(); ev.Result != events.Result_RESULT_ACCEPTED || ev.Key != "K1" || ev.Numwant != 80 ||
		strings.Join(ev.ParamOrder, ",") != "info_hash,peer_id,port,uploaded,downloaded,left,compact,key,numwant" {
		t.Fatalf("event %v", ev)
	}
	// An IPv6 seeder.
	_, body = e.get("/"+pk1+"/announce?"+announceQuery("-qB4650-bbbbbbbbbbbb", 7000, 0, "&compact=1"), "[2001:db8::7]:5000", nil)
	decodeDict(t, body)
	// A v4 leecher of user 2 (another location) sees both seeders: peers and peers6.
	_, body = e.get("/"+pk2+"/announce?"+announceQuery("-qB4650-cccccccccccc", 7001, 10, "&compact=1"), "192.0.2.2:5000", nil)
	d = decodeDict(t, body)
	if d["peers"] != "\xc0\x00\x02\x01\x1a\xe1" {
		t.Fatalf("peers %q", d["peers"])
	}
	p6 := netip.MustParseAddr("2001:db8::7").As16()
	if d["peers6"] != string(p6[:])+"\x1b\x58" {
		t.Fatalf("peers6 %q", d["peers6"])
	}
	// Dictionary model, with and without peer ids.
	_, body = e.get("/"+pk2+"/announce?"+announceQuery("-qB4650-cccccccccccc", 7001, 10, "&compact=0"), "192.0.2.2:5000", nil)
	d = decodeDict(t, body)
	peers := d["peers"].([]any)
	if len(peers) != 2 {
		t.Fatalf("dictionary peers %v", peers)
	}
	seen := map[string]bool{}
	for _, p := range peers {
		m := p.(map[string]any)
		seen[m["ip"].(string)] = true
		if len(m["peer id"].(string)) != 20 {
			t.Fatalf("peer entry %v", m)
		}
	}
	if !seen["192.0.2.1"] || !seen["2001:db8::7"] {
		t.Fatalf("dictionary ips %v", seen)
	}
	if w, _ := d["warning message"].(string); !strings.Contains(w, "too often") {
		t.Fatalf("warning %q", d["warning message"])
	}
	_, body = e.get("/"+pk2+"/announce?"+announceQuery("-qB4650-cccccccccccc", 7001, 10, "&no_peer_id=1"), "192.0.2.2:5000", nil)
	for _, p := range decodeDict(t, body)["peers"].([]any) {
		if _, has := p.(map[string]any)["peer id"]; has {
			t.Fatal("no_peer_id=1 but peer id present")
		}
	}
}

func TestMalformedRequestsGetAFailureReason(t *testing.T) {
	e := newEnv(t, nil, policy.NewCache())
	good := announceQuery("-qB4650-aaaaaaaaaaaa", 6881, 0, "")
	for _, tc := range []struct{ query, want string }{
		{"", "missing parameter: info_hash"},
		{"info_hash=abc&peer_id=-qB4650-aaaaaaaaaaaa&port=1&uploaded=0&downloaded=0&left=0", "info_hash must be 20 bytes, got 3"},
		{good + "&info_hash=x", "duplicated parameter: info_hash"},
		{good + "&port=5", "duplicated parameter: port"},
		{strings.Replace(good, "uploaded=0", "uploaded=12abc", 1), "uploaded must be"},
		{strings.Replace(good, "left=0", "left=-1", 1), "left must be"},
		{strings.Replace(good, "downloaded=0", "downloaded=99999999999999999999999", 1), "downloaded must be"},
		{good + "&numwant=99999999999999999999", "numwant must be"},
		{good + "&numwant=-5", "numwant must be"},
		{strings.Replace(good, "port=6881", "port=0", 1), "port must be"},
		{strings.Replace(good, "port=6881", "port=70000", 1), "port must be"},
		{strings.Replace(good, "&port=6881", "", 1), "missing parameter: port"},
		{good + "&event=bogus", "unknown event"},
		{good + "&key=%zz", "malformed key"},
		{"info_hash=%GG" + good[9:], "info_hash"},
		{good + "&x=" + strings.Repeat("a", 5000), "request too long"},
		{good + strings.Repeat("&a=1", 50), "too many parameters"},
		{good + "&%zz=1", "malformed parameter name"},
	} {
		code, body := e.get("/"+pk1+"/announce?"+tc.query, "192.0.2.1:5000", nil)
		d := decodeDict(t, body)
		reason, _ := d["failure reason"].(string)
		if code != 200 || !strings.Contains(reason, tc.want) {
			t.Errorf("query %.60q: %d %q, want failure containing %q", tc.query, code, body, tc.want)
			continue
		}
		if ev := e.sink.last(); ev.Refusal != events.Refusal_REFUSAL_MALFORMED {
			t.Errorf("query %.60q: event refusal %v", tc.query, ev.Refusal)
		}
	}
	// Unknown passkey, not-a-tracker URL, wrong method: still 200 + failure.
	for _, path := range []string{"/nope/announce?" + good, "/", "/" + pk1 + "/other"} {
		code, body := e.get(path, "192.0.2.9:1", nil)
		if _, ok := decodeDict(t, body)["failure reason"]; code != 200 || !ok {
			t.Errorf("%s: %d %q", path, code, body)
		}
	}
}

// panicPolicy panics on every torrent lookup.
type panicPolicy struct{ *policy.Cache }

func (panicPolicy) TorrentByInfoHash([20]byte) *core.Torrent { panic("boom") }

func TestPanicIsAnsweredWithFailure(t *testing.T) {
	cache := policy.NewCache()
	e := newEnv(t, panicPolicy{cache}, cache)
	code, body := e.get("/"+pk1+"/announce?"+announceQuery("-qB4650-aaaaaaaaaaaa", 6881, 0, ""), "192.0.2.1:5000", nil)
	if reason, _ := decodeDict(t, body)["failure reason"].(string); code != 200 || !strings.Contains(reason, "internal") {
		t.Fatalf("%d %q", code, body)
	}
}

func TestClientAddressAndTrustedProxies(t *testing.T) {
	e := newEnv(t, nil, policy.NewCache())
	q := "/" + pk1 + "/announce?" + announceQuery("-qB4650-aaaaaaaaaaaa", 6881, 0, "")
	for _, tc := range []struct {
		remote string
		hdr    map[string]string
		want   string
	}{
		{"192.0.2.1:5000", map[string]string{"X-Forwarded-For": "203.0.113.9"}, "192.0.2.1"}, // untrusted: header ignored
		{"10.1.2.3:5000", map[string]string{"X-Real-IP": "203.0.113.9"}, "203.0.113.9"},
		{"10.1.2.3:5000", map[string]string{"X-Forwarded-For": "198.51.100.1, 203.0.113.7, 10.1.9.9"}, "203.0.113.7"},
		{"10.1.2.3:5000", map[string]string{"X-Forwarded-For": "garbage"}, "10.1.2.3"},
		{"[::ffff:192.0.2.5]:5000", nil, "192.0.2.5"},
	} {
		e.get(q, tc.remote, tc.hdr)
		got, _ := netip.AddrFromSlice(e.sink.last().Ip)
		if got.String() != tc.want {
			t.Errorf("remote %s %v: ip %s, want %s", tc.remote, tc.hdr, got, tc.want)
		}
	}
}

func TestScrape(t *testing.T) {
	e := newEnv(t, nil, policy.NewCache())
	e.get("/"+pk1+"/announce?"+announceQuery("-qB4650-aaaaaaaaaaaa", 6881, 0, ""), "192.0.2.1:5000", nil)
	e.get("/"+pk2+"/announce?"+announceQuery("-qB4650-bbbbbbbbbbbb", 6882, 5, ""), "192.0.2.2:5000", nil)
	other := strings.Repeat("z", 20)
	_, body := e.get("/"+pk1+"/scrape?info_hash="+url.QueryEscape(string(ih[:]))+"&info_hash="+other, "192.0.2.1:5000", nil)
	files := decodeDict(t, body)["files"].(map[string]any)
	st, ok := files[string(ih[:])].(map[string]any)
	if !ok || len(files) != 1 || st["complete"] != int64(1) || st["incomplete"] != int64(1) || st["downloaded"] != int64(0) {
		t.Fatalf("scrape %v", files)
	}
	for _, path := range []string{"/" + pk1 + "/scrape", "/bad/scrape?info_hash=" + other, "/" + pk1 + "/scrape?info_hash=short"} {
		if _, ok := decodeDict(t, func() string { _, b := e.get(path, "192.0.2.1:1", nil); return b }())["failure reason"]; !ok {
			t.Errorf("%s: no failure reason", path)
		}
	}
}

// The announce metrics reach the registry; the operations endpoints are
// not on the public port (the admin listener serves them, internal/ops).
func TestMetricsAndNoOpsEndpointsOnThePublicPort(t *testing.T) {
	e := newEnv(t, nil, policy.NewCache())
	e.get("/"+pk1+"/announce?"+announceQuery("-qB4650-aaaaaaaaaaaa", 6881, 0, ""), "192.0.2.1:5000", nil)
	e.get("/"+pk1+"/announce?port=1", "192.0.2.1:5000", nil)
	w := httptest.NewRecorder()
	promhttp.HandlerFor(e.reg, promhttp.HandlerOpts{}).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body := w.Body.String()
	for _, want := range []string{
		`ratioguard_tracker_announces_total{refusal="none",result="accepted"} 1`,
		`ratioguard_tracker_announces_total{refusal="REFUSAL_MALFORMED",result="refused"} 1`,
		"ratioguard_tracker_peers 1", "ratioguard_tracker_torrents 1", "ratioguard_tracker_announce_seconds_count 2",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	for _, path := range []string{"/metrics", "/healthz", "/readyz"} {
		code, body := e.get(path, "127.0.0.1:1", nil)
		if reason, _ := decodeDict(t, body)["failure reason"].(string); code != 200 || !strings.Contains(reason, "not a tracker URL") {
			t.Errorf("%s on the public port: %d %q, want the not-a-tracker-URL failure", path, code, body)
		}
	}
}

func TestRedact(t *testing.T) {
	if got := RedactPath("/" + pk1 + "/announce"); got != "/0123…/announce" {
		t.Fatal(got)
	}
	if RedactPasskey("ab") != "…" {
		t.Fatal("short passkey not redacted")
	}
}

// A request carrying a browser's headers is refused with HTTP 200 and a
// bencoded reason, whatever its user agent; the headers the real clients
// send (captured from Debian's transmission-cli 3.00 and aria2 1.36.0) are
// not.
func TestBrowserHeadersRefused(t *testing.T) {
	e := newEnv(t, nil, policy.NewCache())
	for _, tc := range []struct {
		pid  string
		hdr  map[string]string
		want string // "": accepted
	}{
		{"-TR3000-aaaaaaaaaaaa", map[string]string{"User-Agent": "Transmission/3.00", "Accept": "*/*", "Accept-Encoding": "deflate, gzip, br, zstd"}, ""},
		{"A2-1-36-0-aaaaaaaaaa", map[string]string{"User-Agent": "aria2/1.36.0", "Accept": "*/*", "Want-Digest": "SHA-512;q=1, SHA-256;q=1, SHA;q=0.1"}, ""},
		{"-qB4650-aaaaaaaaaaaa", map[string]string{"Accept-Language": "en-US,en;q=0.5"}, "Accept-Language"},
		{"-qB4650-aaaaaaaaaaaa", map[string]string{"Referer": "https://site.example/torrents/1"}, "Referer"},
		{"-qB4650-aaaaaaaaaaaa", map[string]string{"Accept-Charset": "utf-8"}, "Accept-Charset"},
		{"-qB4650-aaaaaaaaaaaa", map[string]string{"Cookie": "session=1"}, "Cookie"},
		{"-qB4650-aaaaaaaaaaaa", map[string]string{"Want-Digest": "SHA-256"}, "Want-Digest"},
		{"-qB4650-aaaaaaaaaaaa", map[string]string{"User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"}, "too long"},
	} {
		code, body := e.get("/"+pk1+"/announce?"+announceQuery(tc.pid, 6881, 0, ""), "192.0.2.1:5000", tc.hdr)
		d := decodeDict(t, body)
		reason, _ := d["failure reason"].(string)
		if code != http.StatusOK || (tc.want == "") != (reason == "") || !strings.Contains(reason, tc.want) {
			t.Errorf("%v: HTTP %d, failure %q, want %q", tc.hdr, code, reason, tc.want)
			continue
		}
		if ev := e.sink.last(); tc.want != "" && ev.Refusal != events.Refusal_REFUSAL_CLIENT_BANNED {
			t.Errorf("%v: event refusal %v, want CLIENT_BANNED", tc.hdr, ev.Refusal)
		}
	}
}

func TestBrowserHeadersBits(t *testing.T) {
	h := http.Header{"Cookie": {"a=b"}, "Referer": {"x"}, "Accept": {"*/*"}}
	if got := BrowserHeaders(h); got != core.HeaderCookie|core.HeaderReferer {
		t.Errorf("BrowserHeaders = %b", got)
	}
	if got := BrowserHeaders(http.Header{"User-Agent": {"x"}}); got != 0 {
		t.Errorf("BrowserHeaders of a client's request = %b", got)
	}
}
