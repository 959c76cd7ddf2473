package clients

import (
	"math/rand/v2"
	"net/netip"
	"regexp"
	"strings"
	"testing"
)

// The parameter orders of the real clients' announce code (see the package doc).
var wantOrder = map[string]string{
	"qbittorrent":      "info_hash peer_id port uploaded downloaded left corrupt key event numwant compact no_peer_id supportcrypto redundant",
	"deluge":           "info_hash peer_id port uploaded downloaded left corrupt key event numwant compact no_peer_id supportcrypto redundant",
	"transmission":     "info_hash peer_id port uploaded downloaded left numwant key compact supportcrypto event",
	"rtorrent":         "info_hash peer_id key compact port uploaded downloaded left event",
	"aria2":            "info_hash peer_id uploaded downloaded left compact key numwant no_peer_id port event supportcrypto",
	"utorrent":         "info_hash peer_id port uploaded downloaded left corrupt key event numwant compact no_peer_id",
	"ratiofaker-fixed": "info_hash peer_id port uploaded downloaded left corrupt key event numwant compact no_peer_id",
	"ratiofaker-mimic": "info_hash peer_id port uploaded downloaded left event key compact numwant",
}

var wantKey = map[string]*regexp.Regexp{
	"qbittorrent":      regexp.MustCompile(`^[0-9A-F]{8}$`),
	"deluge":           regexp.MustCompile(`^[0-9A-F]{8}$`),
	"transmission":     regexp.MustCompile(`^[0-9A-F]{8}$`),
	"rtorrent":         regexp.MustCompile(`^[0-9a-f]{8}$`),
	"aria2":            regexp.MustCompile(`^([0-9A-Za-z]|%[0-9A-F]{2}){8}$`),
	"utorrent":         regexp.MustCompile(`^[0-9A-F]{8}$`),
	"ratiofaker-fixed": regexp.MustCompile(`^[0-9A-F]{8}$`),
	"ratiofaker-mimic": regexp.MustCompile(`^[0-9a-f]{6}$`),
}

func sample(t *Template, ev Event) *Announce {
	r := rand.New(rand.NewPCG(1, 2))
	a := &Announce{Client: t, Event: ev, Port: 51413, Uploaded: 1, Downloaded: 2, Left: 3,
		IP: netip.MustParseAddr("81.2.3.4")}
	for i := range a.InfoHash {
		a.InfoHash[i] = byte(i * 13)
	}
	a.PeerID = t.NewPeerID(r)
	a.Key = t.NewKey(r, a.PeerID)
	return a
}

func TestParamOrderAndKeyFormats(t *testing.T) {
	for name, want := range wantOrder {
		tpl := MustByName(name)
		a := sample(tpl, EventStarted)
		if got := strings.Join(tpl.ParamOrder(a), " "); got != want {
			t.Errorf("%s order\n got %s\nwant %s", name, got, want)
		}
		if !wantKey[name].MatchString(a.Key) {
			t.Errorf("%s key %q does not match %s", name, a.Key, wantKey[name])
		}
		if !strings.HasPrefix(string(a.PeerID[:]), tpl.PeerIDPrefix) {
			t.Errorf("%s peer_id %q lacks prefix %q", name, a.PeerID, tpl.PeerIDPrefix)
		}
		q := a.Query()
		if !strings.Contains(q, "&uploaded=1&") || !strings.Contains(q, "left=3") || !strings.Contains(q, "event=started") {
			t.Errorf("%s query %q lacks counters or event", name, q)
		}
	}
}

func TestEventAndOptionalParams(t *testing.T) {
	tr := MustByName("transmission")
	a := sample(tr, EventNone)
	if q := a.Query(); strings.Contains(q, "event=") || strings.Contains(q, "corrupt=") {
		t.Errorf("regular transmission announce has event or zero corrupt: %s", q)
	}
	a.Corrupt, a.Event = 5, EventStopped
	if q := a.Query(); !strings.HasSuffix(q, "&corrupt=5&event=stopped") || !strings.Contains(q, "numwant=0") {
		t.Errorf("stopped transmission announce: %s", q)
	}
	rt := MustByName("rtorrent")
	if q := sample(rt, EventNone).Query(); strings.Contains(q, "numwant") {
		t.Errorf("rtorrent sends numwant by default: %s", q)
	}
}

func TestAria2KeyIsPeerIDTail(t *testing.T) {
	a := sample(MustByName("aria2"), EventNone)
	var b strings.Builder
	a.Client.Escape.write(&b, a.PeerID[12:])
	if a.Key != b.String() {
		t.Fatalf("aria2 key %q is not the escaped peer_id tail %q", a.Key, b.String())
	}
}

func TestEscaping(t *testing.T) {
	var b strings.Builder
	Escaping{Keep: "-_.!~*()", Lower: true}.write(&b, []byte{'a', '-', 0xAB, ' ', '~'})
	if b.String() != "a-%ab%20~" {
		t.Fatalf("libtorrent escaping = %q", b.String())
	}
	b.Reset()
	Escaping{}.write(&b, []byte{'Z', '~', 0x01})
	if b.String() != "Z%7E%01" {
		t.Fatalf("alnum-only escaping = %q", b.String())
	}
}

func TestUnknownClient(t *testing.T) {
	if _, err := ByName("bitcomet"); err == nil || !strings.Contains(err.Error(), "qbittorrent") {
		t.Fatalf("ByName(bitcomet) = %v, want an error listing known clients", err)
	}
}
