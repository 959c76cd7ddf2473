// Package clients owns how simulated BitTorrent clients look on the wire: the
// peer_id format, User-Agent, `key` format, percent-encoding and the exact
// order of the announce query parameters of each real client (taken from the
// clients' own announce code: libtorrent-rasterbar's
// http_tracker_connection.cpp for qBittorrent and Deluge, Transmission's
// announcer-http.cc, rakshasa libtorrent's tracker_http.cc for rTorrent,
// aria2's DefaultBtAnnounce.cc, and captured uTorrent requests), plus the
// cheat tools that imitate them. It builds the raw query string of an
// announce; it knows nothing about swarms.
package clients

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Event is the announce `event` parameter.
type Event uint8

// The announce events.
const (
	EventNone Event = iota
	EventStarted
	EventStopped
	EventCompleted
)

// String is the value sent in the query ("" for a regular announce).
func (e Event) String() string {
	switch e {
	case EventStarted:
		return "started"
	case EventStopped:
		return "stopped"
	case EventCompleted:
		return "completed"
	}
	return ""
}

// Announce is one announce request of a simulated client: what it sends and,
// for tests and labels, who really sent it.
type Announce struct {
	Time       time.Time
	Passkey    string
	InfoHash   [20]byte
	PeerID     [20]byte
	IP         netip.Addr // the address the tracker sees (X-Forwarded-For in live mode)
	Port       uint16
	Uploaded   uint64
	Downloaded uint64
	Left       uint64
	Corrupt    uint64
	Event      Event
	Key        string
	Client     *Template

	// Ground truth, never sent.
	UserID    uint64
	TorrentID uint64
	AgentID   uint32
}

// Query returns the raw query string in the client's parameter order.
func (a *Announce) Query() string { return a.Client.Query(a) }

// UserAgent is the User-Agent header the client sends.
func (a *Announce) UserAgent() string { return a.Client.UserAgent }

// KeyStyle says how a client forms its `key` parameter.
type KeyStyle uint8

// Key styles.
const (
	KeyHexUpper8   KeyStyle = iota // %08X of a random uint32 (libtorrent-rasterbar, Transmission, uTorrent)
	KeyHexLower8                   // %08x of a random uint32 (rTorrent)
	KeyPeerIDTail8                 // the last 8 bytes of the peer_id, percent-encoded (aria2)
	KeyHexLower6                   // 6 lowercase hex digits (a cheat tool's guess)
)

// Scope says how long a peer_id or key lives.
type Scope uint8

// Scopes.
const (
	PerTorrent Scope = iota // a fresh value for every torrent of a client session
	PerSession              // one value for the whole client process
	Forever                 // never changes, even across restarts (fixed cheat templates)
)

// Template is one client at one version.
type Template struct {
	Name      string // family: qbittorrent, transmission, deluge, rtorrent, aria2, utorrent, or a cheat tool
	Version   string
	UserAgent string
	// PeerIDPrefix is the fixed head of the peer_id (Azureus style "-qB4670-").
	PeerIDPrefix string
	// PeerIDAlphabet is the alphabet of the random tail; empty means any byte.
	PeerIDAlphabet string
	PeerIDScope    Scope
	KeyStyle       KeyStyle
	KeyScope       Scope
	// Params is the query in the client's order.
	Params []Param
	// NumWant and NumWantStopped are the numwant values sent.
	NumWant, NumWantStopped int
	// Escape is how info_hash and peer_id bytes are percent-encoded.
	Escape Escaping
}

// Escaping is a client's percent-encoding of binary parameters.
type Escaping struct {
	Keep  string // bytes besides ASCII letters and digits left as they are
	Lower bool   // lowercase hex digits
}

// When says when a parameter is present.
type When uint8

// Conditions of presence.
const (
	Always         When = iota
	WithEvent           // only when event is not empty
	NotStopped          // omitted on event=stopped
	NonZeroCorrupt      // only when corrupt > 0
)

// Param is one query parameter of a template.
type Param struct {
	Name  string
	When  When
	Fixed string // constant value (compact=1); empty means taken from the announce
}

// Query builds the raw query string (no leading '?').
func (t *Template) Query(a *Announce) string {
	var b strings.Builder
	b.Grow(256)
	for _, p := range t.Params {
		switch p.When {
		case WithEvent:
			if a.Event == EventNone {
				continue
			}
		case NotStopped:
			if a.Event == EventStopped {
				continue
			}
		case NonZeroCorrupt:
			if a.Corrupt == 0 {
				continue
			}
		}
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.Name)
		b.WriteByte('=')
		if p.Fixed != "" {
			b.WriteString(p.Fixed)
			continue
		}
		t.writeValue(&b, p.Name, a)
	}
	return b.String()
}

// ParamOrder is the list of parameter names the client sends for an announce
// with this event, in order (what the tracker records as the fingerprint).
func (t *Template) ParamOrder(a *Announce) []string {
	q := t.Query(a)
	parts := strings.Split(q, "&")
	out := make([]string, 0, len(parts))
	for _, p := range parts {
		name, _, _ := strings.Cut(p, "=")
		out = append(out, name)
	}
	return out
}

func (t *Template) writeValue(b *strings.Builder, name string, a *Announce) {
	switch name {
	case "info_hash":
		t.Escape.write(b, a.InfoHash[:])
	case "peer_id":
		t.Escape.write(b, a.PeerID[:])
	case "port":
		b.WriteString(strconv.FormatUint(uint64(a.Port), 10))
	case "uploaded":
		b.WriteString(strconv.FormatUint(a.Uploaded, 10))
	case "downloaded":
		b.WriteString(strconv.FormatUint(a.Downloaded, 10))
	case "left":
		b.WriteString(strconv.FormatUint(a.Left, 10))
	case "corrupt":
		b.WriteString(strconv.FormatUint(a.Corrupt, 10))
	case "key":
		b.WriteString(a.Key)
	case "event":
		b.WriteString(a.Event.String())
	case "numwant":
		n := t.NumWant
		if a.Event == EventStopped {
			n = t.NumWantStopped
		}
		b.WriteString(strconv.Itoa(n))
	default:
		panic(fmt.Sprintf("clients: template %s has parameter %q without a value", t.Name, name))
	}
}

func (e Escaping) write(b *strings.Builder, raw []byte) {
	hex := "0123456789ABCDEF"
	if e.Lower {
		hex = "0123456789abcdef"
	}
	for _, c := range raw {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || (c < 0x80 && strings.IndexByte(e.Keep, c) >= 0) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
}

// NewPeerID draws a peer_id: the prefix and a random tail from the alphabet.
func (t *Template) NewPeerID(r *rand.Rand) [20]byte {
	var id [20]byte
	n := copy(id[:], t.PeerIDPrefix)
	for i := n; i < 20; i++ {
		if t.PeerIDAlphabet == "" {
			id[i] = byte(r.UintN(256))
		} else {
			id[i] = t.PeerIDAlphabet[r.IntN(len(t.PeerIDAlphabet))]
		}
	}
	return id
}

// NewKey draws the `key` value for a peer_id.
func (t *Template) NewKey(r *rand.Rand, peerID [20]byte) string {
	switch t.KeyStyle {
	case KeyHexLower8:
		return fmt.Sprintf("%08x", r.Uint32())
	case KeyPeerIDTail8:
		var b strings.Builder
		t.Escape.write(&b, peerID[12:])
		return b.String()
	case KeyHexLower6:
		return fmt.Sprintf("%06x", r.Uint32()&0xffffff)
	default:
		return fmt.Sprintf("%08X", r.Uint32())
	}
}
