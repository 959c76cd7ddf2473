package frontend

import (
	"net/netip"
	"net/url"
	"testing"

	"github.com/ratioguard/ratioguard/tracker/core"
)

var targets = []string{
	"/" + pk1 + "/announce?info_hash=k%f6%b0v&peer_id=-qB4520-!Ld*C-JIbQdJ&port=1",
	"/" + pk1 + "/announce", "/" + pk1 + "/announce?", "/" + pk1 + "/announce??x", "/a/b/announce?x=1",
	"/" + pk1[:4] + "%61" + pk1[5:] + "/announce?x", "/ab%2Fcd/announce?x", "/a b/announce", "/é/announce?x",
	"/x/announce?a=\x01", "/x/announce\x7f", "http://host/x/announce?q=1", "*", "", "x/announce",
	"//x/announce?q", "/x/announce#frag?q", "/x/announce?q#frag", "/x;y/announce", "/x%zz/announce",
}

// ParseTarget gives what url.ParseRequestURI (net/http's server) gives, on
// its allocation-free path as on the other.
func TestParseTargetMatchesNetHTTP(t *testing.T) {
	for _, tg := range targets {
		checkTarget(t, tg)
	}
}

func FuzzParseTarget(f *testing.F) {
	for _, tg := range targets {
		f.Add(tg)
	}
	f.Fuzz(checkTarget)
}

func checkTarget(t *testing.T, tg string) {
	var got url.URL
	err := ParseTarget(tg, &got)
	want, werr := url.ParseRequestURI(tg)
	if (err == nil) != (werr == nil) {
		t.Fatalf("%q: error %v, net/url %v", tg, err, werr)
	}
	if err == nil && got != *want {
		t.Fatalf("%q: %#v, net/url %#v", tg, got, *want)
	}
}

// Parse: announce routes only (as the live router), the passkey decoded,
// the query parsed with the Malformed reason.
func TestParserRoutes(t *testing.T) {
	addr := netip.MustParseAddr("192.0.2.1")
	for _, tc := range []struct {
		target, pk string
		ok         bool
		malformed  string
	}{
		{"/" + pk1 + "/announce?" + announceQuery("-qB4650-aaaaaaaaaaaa", 6881, 0, ""), pk1, true, ""},
		{"/" + pk1[:10] + "%61" + pk1[11:] + "/announce?" + announceQuery("-qB4650-aaaaaaaaaaaa", 6881, 0, ""), pk1, true, ""},
		{"/ab%2Fcd/announce?x", "ab%2Fcd", true, "missing parameter: info_hash"}, // chi's raw-path match
		{"/" + pk1 + "/announce", pk1, true, "missing parameter: info_hash"},
		{"http://t.example/" + pk1 + "/announce?port=0", pk1, true, "port must be a number from 1 to 65535"},
		{"/" + pk1 + "/scrape?info_hash=x", "", false, ""},
		{"/announce?passkey=" + pk1, "", false, ""},
		{"//announce", "", false, ""},
	} {
		var u url.URL
		if err := ParseTarget(tc.target, &u); err != nil {
			t.Fatal(err)
		}
		var p Parser
		r := core.Request{Passkey: "untouched"}
		ok := p.Parse(&u, "ua", addr, &r)
		if ok != tc.ok || ok && (r.Passkey != tc.pk || r.Malformed != tc.malformed || r.Addr != addr || r.UserAgent != "ua") {
			t.Errorf("%s: %v %+v", tc.target, ok, r)
		}
		if !ok && r.Passkey != "untouched" {
			t.Errorf("%s: request changed", tc.target)
		}
	}
}
