package clients

import (
	"fmt"
	"sort"
	"strings"
)

// Alphabets of peer_id tails.
const (
	// libtorrent-rasterbar's url_random characters.
	alphaLibtorrent = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_.!~*()"
	// Transmission's base-36 tail.
	alphaTransmission = "0123456789abcdefghijklmnopqrstuvwxyz"
	alphaAlnum        = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)

func p(name string) Param                { return Param{Name: name} }
func pw(name string, w When) Param       { return Param{Name: name, When: w} }
func pf(name string, fixed string) Param { return Param{Name: name, Fixed: fixed} }

// libtorrent-rasterbar 1.2/2.0 (qBittorrent, Deluge): http_tracker_connection.cpp.
var libtorrentParams = []Param{
	p("info_hash"), p("peer_id"), p("port"), p("uploaded"), p("downloaded"), p("left"),
	p("corrupt"), p("key"), pw("event", WithEvent), p("numwant"), pf("compact", "1"),
	pf("no_peer_id", "1"), pf("supportcrypto", "1"), pf("redundant", "0"),
}

var builtin = []*Template{
	{
		Name: "qbittorrent", Version: "4.6.7", UserAgent: "qBittorrent/4.6.7",
		PeerIDPrefix: "-qB4670-", PeerIDAlphabet: alphaLibtorrent, PeerIDScope: PerTorrent,
		KeyStyle: KeyHexUpper8, KeyScope: PerTorrent, Params: libtorrentParams,
		NumWant: 200, NumWantStopped: 0, Escape: Escaping{Keep: "-_.!~*()", Lower: true},
	},
	{
		Name: "deluge", Version: "2.1.1", UserAgent: "Deluge/2.1.1 libtorrent/2.0.9.0",
		PeerIDPrefix: "-DE211s-", PeerIDAlphabet: alphaLibtorrent, PeerIDScope: PerTorrent,
		KeyStyle: KeyHexUpper8, KeyScope: PerTorrent, Params: libtorrentParams,
		NumWant: 200, NumWantStopped: 0, Escape: Escaping{Keep: "-_.!~*()", Lower: true},
	},
	{
		// announcer-http.cc: corrupt only when non-zero, event last.
		Name: "transmission", Version: "4.0.6", UserAgent: "Transmission/4.0.6",
		PeerIDPrefix: "-TR4060-", PeerIDAlphabet: alphaTransmission, PeerIDScope: PerTorrent,
		KeyStyle: KeyHexUpper8, KeyScope: PerSession,
		Params: []Param{
			p("info_hash"), p("peer_id"), p("port"), p("uploaded"), p("downloaded"), p("left"),
			p("numwant"), p("key"), pf("compact", "1"), pf("supportcrypto", "1"),
			pw("corrupt", NonZeroCorrupt), pw("event", WithEvent),
		},
		NumWant: 80, NumWantStopped: 0, Escape: Escaping{Keep: "-._~"},
	},
	{
		// rakshasa tracker_http.cc: key right after peer_id, lowercase; numwant
		// only when configured (default -1, so absent); port after compact.
		// One base-36 digit per version component ("-lt0D80-" was 0.13.8);
		// 0.16 is the oldest the default client rules allow.
		Name: "rtorrent", Version: "0.16.0", UserAgent: "rtorrent/0.16.0/0.16.0",
		PeerIDPrefix: "-lt0G00-", PeerIDScope: PerTorrent,
		KeyStyle: KeyHexLower8, KeyScope: PerTorrent,
		Params: []Param{
			p("info_hash"), p("peer_id"), p("key"), pf("compact", "1"), p("port"),
			p("uploaded"), p("downloaded"), p("left"), pw("event", WithEvent),
		},
		Escape: Escaping{},
	},
	{
		// DefaultBtAnnounce.cc: port after no_peer_id; key is the peer_id tail.
		Name: "aria2", Version: "1.37.0", UserAgent: "aria2/1.37.0",
		PeerIDPrefix: "A2-1-37-0-", PeerIDScope: PerSession,
		KeyStyle: KeyPeerIDTail8, KeyScope: PerSession,
		Params: []Param{
			p("info_hash"), p("peer_id"), p("uploaded"), p("downloaded"), p("left"),
			pf("compact", "1"), p("key"), p("numwant"), pf("no_peer_id", "1"), p("port"),
			pw("event", WithEvent), pf("supportcrypto", "1"),
		},
		NumWant: 50, NumWantStopped: 0, Escape: Escaping{},
	},
	{
		// Captured uTorrent requests: corrupt always, event before numwant.
		// "W" marks the release type; the two bytes after the prefix are the
		// build number, little endian.
		Name: "utorrent", Version: "3.5.5", UserAgent: "uTorrent/355(46206)",
		PeerIDPrefix: "-UT355W-\x7e\xb4", PeerIDScope: PerSession,
		KeyStyle: KeyHexUpper8, KeyScope: PerSession,
		Params: []Param{
			p("info_hash"), p("peer_id"), p("port"), p("uploaded"), p("downloaded"), p("left"),
			p("corrupt"), p("key"), pw("event", WithEvent), p("numwant"), pf("compact", "1"),
			pf("no_peer_id", "1"),
		},
		NumWant: 200, NumWantStopped: 0, Escape: Escaping{Lower: true},
	},

	// Cheat tools.
	{
		// A RatioMaster-style fixed template: claims to be qBittorrent 4.3.9 but
		// keeps one peer_id and key forever and never sends supportcrypto/redundant.
		Name: "ratiofaker-fixed", Version: "4.3.9", UserAgent: "qBittorrent/4.3.9",
		PeerIDPrefix: "-qB4390-", PeerIDAlphabet: alphaAlnum, PeerIDScope: Forever,
		KeyStyle: KeyHexUpper8, KeyScope: Forever,
		Params: []Param{
			p("info_hash"), p("peer_id"), p("port"), p("uploaded"), p("downloaded"), p("left"),
			p("corrupt"), p("key"), pw("event", WithEvent), p("numwant"), pf("compact", "1"),
			pf("no_peer_id", "1"),
		},
		NumWant: 200, NumWantStopped: 200, Escape: Escaping{},
	},
	{
		// A careful faker: qBittorrent's peer_id and User-Agent, but the
		// generic BEP 3 order and a 6-digit lowercase key.
		Name: "ratiofaker-mimic", Version: "4.6.7", UserAgent: "qBittorrent/4.6.7",
		PeerIDPrefix: "-qB4670-", PeerIDAlphabet: alphaLibtorrent, PeerIDScope: PerTorrent,
		KeyStyle: KeyHexLower6, KeyScope: PerSession,
		Params: []Param{
			p("info_hash"), p("peer_id"), p("port"), p("uploaded"), p("downloaded"), p("left"),
			pw("event", WithEvent), p("key"), pf("compact", "1"), p("numwant"),
		},
		NumWant: 50, NumWantStopped: 50, Escape: Escaping{Keep: "-_.!~*()"},
	},
}

// Honest lists the families of honest clients, sorted.
func Honest() []string {
	var out []string
	for _, t := range builtin {
		if !strings.HasPrefix(t.Name, "ratiofaker") {
			out = append(out, t.Name)
		}
	}
	sort.Strings(out)
	return out
}

// ByName returns the template of a client family or cheat tool.
func ByName(name string) (*Template, error) {
	for _, t := range builtin {
		if t.Name == name {
			return t, nil
		}
	}
	return nil, fmt.Errorf("unknown client %q (known: %v and ratiofaker-fixed, ratiofaker-mimic)", name, Honest())
}

// MustByName is ByName for names known at compile time.
func MustByName(name string) *Template {
	t, err := ByName(name)
	if err != nil {
		panic(err)
	}
	return t
}
