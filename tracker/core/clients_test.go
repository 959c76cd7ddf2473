package core_test

import (
	"strings"
	"testing"

	"github.com/ratioguard/ratioguard/tracker/core"
)

// The default rules of schemas/postgres/migrations/00001_init.sql.
var defaultRules = []core.ClientRule{
	{Prefix: "-qB", MinVersion: "4.0.0", UAFamily: "qbittorrent", Allowed: true},
	{Prefix: "-TR", MinVersion: "2.90", UAFamily: "transmission", Allowed: true},
	{Prefix: "-DE", MinVersion: "1.3.0", UAFamily: "deluge", Allowed: true},
	{Prefix: "-lt", MinVersion: "0.16.0", UAFamily: "rtorrent", Allowed: true},
	{Prefix: "-LT", MinVersion: "1.2.0", UAFamily: "libtorrent", Allowed: true},
	{Prefix: "A2-", MinVersion: "1.30.0", UAFamily: "aria2", Allowed: true},
	{Prefix: "-UT", MinVersion: "3.5.5", UAFamily: "utorrent", Allowed: true},
	{Prefix: "-UT", MaxVersion: "3.5.4", UAFamily: "utorrent", Allowed: false, Reason: "uTorrent older than 3.5.5 is not allowed, please upgrade"},
	{Prefix: "-BC", Reason: "BitComet is not allowed"},
	{Prefix: "-RM", Reason: "RatioMaster is a known ratio cheating tool"},
}

func TestClientRules(t *testing.T) {
	cr, err := core.CompileClientRules(defaultRules)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		peerID, ua string
		refused    string // substring of the reason; "" = allowed
	}{
		{"-qB4650-abcdefghijkl", "qBittorrent/4.6.5", ""},
		{"-qB3300-abcdefghijkl", "qBittorrent/3.3.0", "4.0.0 or newer"},
		{"-qB4650-abcdefghijkl", "Transmission/4.0.6", "does not match"},
		{"-TR2940-abcdefghijkl", "Transmission/2.94", ""},
		{"-TR3000-abcdefghijkl", "Transmission/3.00", ""},
		{"-TR4060-abcdefghijkl", "Transmission/4.0.6", ""},
		{"-TR2840-abcdefghijkl", "Transmission/2.84", "2.90 or newer"},
		{"A2-1-37-0-abcdefghij", "aria2/1.37.0", ""},
		{"A2-1-29-0-abcdefghij", "aria2/1.29.0", "1.30.0"},
		{"-UT355W-abcdefghijkl", "uTorrent/355(46000)", ""},
		{"-UT354W-abcdefghijkl", "uTorrent/354(45000)", "please upgrade"},
		{"-UT2210-abcdefghijkl", "uTorrent/2210", "please upgrade"},
		{"-BC0200-abcdefghijkl", "BitComet/2.0", "BitComet"},
		{"-RM1000-abcdefghijkl", "uTorrent/355", "cheating"},
		{"-qB4650-abcdefghijkl", "Mozilla/5.0 (X11)", "browsers"},
		{"-ZZ1000-abcdefghijkl", "Whatever/1.0", "allowed clients"},
		{"M7-2-0--abcdefghijkl", "", "allowed clients"},
		{"-qB4650-abcdefghijkl", "", "no User-Agent"}, // the rule names a family: a real qBittorrent always sends one
		{"-ZZ1000-abcdefghijkl", "", "allowed clients"},
		{"-qB4650-abcdefghijkl", "qBittorrent/4.6.5 Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36", "too long"},
		{"-qB4650-abcdefghijkl", "qBittorrent/4.6.5 (compatible; Googlebot/2.1)", "crawlers"},
		{"-qB4650-abcdefghijkl", "qBittorrent/4.6.5 Chrome/120", "browsers"},
		{"-qB4650-abcdefghijkl", "unknown qBittorrent", "browsers"},
	} {
		got := cr.Check([]byte(tc.peerID), tc.ua, 0)
		if (tc.refused == "") != (got == "") || !strings.Contains(got, tc.refused) {
			t.Errorf("Check(%q, %q) = %q, want refusal containing %q", tc.peerID, tc.ua, got, tc.refused)
		}
	}
	// Without any allowing rule, only bans apply.
	open, _ := core.CompileClientRules([]core.ClientRule{{Prefix: "-BC"}})
	if got := open.Check([]byte("-ZZ1000-abcdefghijkl"), "x", 0); got != "" {
		t.Errorf("open rules refused an unknown client: %q", got)
	}
	if got := open.Check([]byte("-ZZ1000-abcdefghijkl"), "", 0); got != "" {
		t.Errorf("open rules refused a client without a user agent: %q", got)
	}
	if got := open.Check([]byte("-BC1000-abcdefghijkl"), "x", 0); got == "" {
		t.Error("open rules allowed a banned client")
	}
	if _, err := core.CompileClientRules([]core.ClientRule{{Prefix: "-qB", MinVersion: "four"}}); err == nil {
		t.Error("bad version compiled")
	}
}

// The user agents the real clients of tracker/e2e_clients_test.go and of
// sim/clients send, and popgen's logs carry: never refused, with the headers
// each sends (aria2 1.35–1.36 sends Want-Digest on every announce).
func TestRealClientsPassTheBrowserChecks(t *testing.T) {
	cr, _ := core.CompileClientRules(defaultRules)
	for _, tc := range []struct {
		peerID, ua string
		h          core.Headers
	}{
		{"-qB4520-abcdefghijkl", "qBittorrent/4.5.2", 0},
		{"-qB4670-abcdefghijkl", "qBittorrent/4.6.7", 0},
		{"-DE2030-abcdefghijkl", "Deluge/2.0.3 libtorrent/1.2.5.0", 0},
		{"-DE2110-abcdefghijkl", "Deluge/2.1.1 libtorrent/2.0.9.0", 0},
		{"-lt0G00-abcdefghijkl", "rtorrent/0.16.0/0.16.0", 0},
		{"-TR3000-abcdefghijkl", "Transmission/3.00", 0},
		{"-TR4060-abcdefghijkl", "Transmission/4.0.6", 0},
		{"A2-1-36-0-abcdefghij", "aria2/1.36.0", core.HeaderWantDigest},
		{"A2-1-37-0-abcdefghij", "aria2/1.37.0", 0},
		{"-UT355W-abcdefghijkl", "uTorrent/355(46206)", 0},
	} {
		if got := cr.Check([]byte(tc.peerID), tc.ua, tc.h); got != "" {
			t.Errorf("%s refused: %q", tc.ua, got)
		}
	}
}

// Headers no BitTorrent client sends are refused, whatever the user agent
// claims; Want-Digest only from what is not aria2 by both peer_id and user
// agent.
func TestBrowserHeadersAreRefused(t *testing.T) {
	cr, _ := core.CompileClientRules(defaultRules)
	for _, tc := range []struct {
		peerID, ua string
		h          core.Headers
		want       string
	}{
		{"-qB4650-abcdefghijkl", "qBittorrent/4.6.5", core.HeaderAcceptLanguage, "Accept-Language"},
		{"-qB4650-abcdefghijkl", "qBittorrent/4.6.5", core.HeaderReferer, "Referer"},
		{"-qB4650-abcdefghijkl", "qBittorrent/4.6.5", core.HeaderAcceptCharset, "Accept-Charset"},
		{"-qB4650-abcdefghijkl", "qBittorrent/4.6.5", core.HeaderCookie, "Cookie"},
		{"-qB4650-abcdefghijkl", "qBittorrent/4.6.5", core.HeaderWantDigest, "Want-Digest"},
		{"A2-1-36-0-abcdefghij", "qBittorrent/4.6.5", core.HeaderWantDigest, "Want-Digest"},
		{"-qB4650-abcdefghijkl", "aria2/1.36.0", core.HeaderWantDigest, "Want-Digest"},
		{"A2-1-36-0-abcdefghij", "aria2/1.36.0", core.HeaderWantDigest | core.HeaderCookie, "(Cookie)"},
		{"-TR4060-abcdefghijkl", "Transmission/4.0.6", core.HeaderReferer | core.HeaderAcceptLanguage, "Accept-Language, Referer"},
	} {
		got := cr.Check([]byte(tc.peerID), tc.ua, tc.h)
		if !strings.Contains(got, "abnormal access") || !strings.Contains(got, tc.want) {
			t.Errorf("Check(%q, %q, %b) = %q, want a refusal naming %q", tc.peerID, tc.ua, tc.h, got, tc.want)
		}
	}
	// With no rules at all, the browser checks still apply.
	open, _ := core.CompileClientRules(nil)
	if got := open.Check([]byte("-ZZ1000-abcdefghijkl"), "x", core.HeaderCookie); got == "" {
		t.Error("open rules allowed a request with a Cookie")
	}
}

func TestClientCheckDoesNotAllocateWhenAllowed(t *testing.T) {
	cr, _ := core.CompileClientRules(defaultRules)
	id := []byte("-TR4060-abcdefghijkl")
	if n := testing.AllocsPerRun(100, func() { _ = cr.Check(id, "Transmission/4.0.6", 0) }); n != 0 {
		t.Fatalf("Check allocates %.0f times", n)
	}
}

func BenchmarkClientCheck(b *testing.B) {
	cr, _ := core.CompileClientRules(defaultRules)
	id := []byte("-qB4650-abcdefghijkl")
	for b.Loop() {
		_ = cr.Check(id, "qBittorrent/4.6.5", 0)
	}
}
