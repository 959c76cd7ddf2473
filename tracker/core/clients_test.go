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
		{"-qB4650-abcdefghijkl", "", ""}, // no user agent: nothing to compare
	} {
		got := cr.Check([]byte(tc.peerID), tc.ua)
		if (tc.refused == "") != (got == "") || !strings.Contains(got, tc.refused) {
			t.Errorf("Check(%q, %q) = %q, want refusal containing %q", tc.peerID, tc.ua, got, tc.refused)
		}
	}
	// Without any allowing rule, only bans apply.
	open, _ := core.CompileClientRules([]core.ClientRule{{Prefix: "-BC"}})
	if got := open.Check([]byte("-ZZ1000-abcdefghijkl"), "x"); got != "" {
		t.Errorf("open rules refused an unknown client: %q", got)
	}
	if got := open.Check([]byte("-BC1000-abcdefghijkl"), "x"); got == "" {
		t.Error("open rules allowed a banned client")
	}
	if _, err := core.CompileClientRules([]core.ClientRule{{Prefix: "-qB", MinVersion: "four"}}); err == nil {
		t.Error("bad version compiled")
	}
}

func TestClientCheckDoesNotAllocateWhenAllowed(t *testing.T) {
	cr, _ := core.CompileClientRules(defaultRules)
	id := []byte("-TR4060-abcdefghijkl")
	if n := testing.AllocsPerRun(100, func() { _ = cr.Check(id, "Transmission/4.0.6") }); n != 0 {
		t.Fatalf("Check allocates %.0f times", n)
	}
}
