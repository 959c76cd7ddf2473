// Package core owns the announce logic of the tracker as a pure function of
// its inputs: a parsed request and the policy in force go in, the answer for
// the client and one events.Announce for the stream come out. Time comes from
// an injected Clock; swarms (peers and their accounting sessions) and member
// locations live in sharded in-memory stores; nothing here does I/O.
package core

import (
	"net/netip"
	"time"

	"github.com/ratioguard/ratioguard/schemas/events"
)

// Sink receives every announce event, accepted or refused. Publish must not
// block and takes ownership of ev.
type Sink interface {
	Publish(ev *events.Announce)
}

// Clock tells the time; tests inject a fake one.
type Clock interface {
	Now() time.Time
}

// SystemClock is the wall clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// User is a member as the tracker needs it. Policy caches hand out immutable
// values: a change replaces the pointer.
type User struct {
	ID uint64
	// SiteID is the site application's id of the member (0: none); NexusPHP's
	// authkeys name members by it.
	SiteID         uint64
	Enabled        bool
	DisabledReason string
	CanLeech       bool
	// ClassPromotion is the promotion of the member's class (group); nil: none.
	ClassPromotion *Promotion
	// PersonalFreeleech credits the member's downloads 0 until
	// PersonalFreeleechUntil (zero: no end).
	PersonalFreeleech      bool
	PersonalFreeleechUntil time.Time
	// DownloadSlots, when set, is how many leech sessions the member may
	// have at once over every torrent (their class's download slots;
	// UNIT3D's group download_slots); nil: unlimited.
	DownloadSlots *uint32
}

// Torrent is a registered torrent with its promotion.
type Torrent struct {
	ID            uint64
	Size          uint64
	Deleted       bool
	DeletedReason string
	// DeletedAt is when the torrent was deleted: its reason is told for
	// DeletedReasonFor after it.
	DeletedAt time.Time
	// Unavailable, when set, refuses announces with this message (a torrent
	// waiting for moderation).
	Unavailable string
	// Tokens are the members holding a freeleech token on the torrent (nil: none).
	Tokens    map[uint64]struct{}
	Promotion Promotion
	// PromotionUntil ends a time-limited promotion; zero means no end.
	PromotionUntil time.Time
}

// Promotion is a credit rule in percent: DownloadPercent 0 is freeleech, 50
// half leech; UploadPercent 200 is double upload.
type Promotion struct {
	Name            string
	DownloadPercent uint32
	UploadPercent   uint32
}

// NoPromotion credits bytes as reported.
var NoPromotion = Promotion{Name: "none", DownloadPercent: 100, UploadPercent: 100}

// Neutral is neutral leech: neither upload nor download is credited.
var Neutral = Promotion{Name: "neutral", DownloadPercent: 0, UploadPercent: 0}

// Freeleech credits downloads 0 and uploads as reported.
var Freeleech = Promotion{Name: "freeleech", DownloadPercent: 0, UploadPercent: 100}

// TokenPromotion names the part of an event's promotion (parts joined by
// "+") that a freeleech token applied: the write-back (ingest/site) records
// the download against the token and expires it on completion by it.
const TokenPromotion = "token"

// IsNone reports whether the promotion changes nothing.
func (p Promotion) IsNone() bool { return p.DownloadPercent == 100 && p.UploadPercent == 100 }

// IsNeutral reports whether the promotion counts neither side: no other
// promotion applies on top of it.
func (p Promotion) IsNeutral() bool { return p.DownloadPercent == 0 && p.UploadPercent == 0 }

// DeletedReasonFor is how long after its deletion a torrent's announces
// are told the reason (Ocelot keeps deletion reasons as long).
const DeletedReasonFor = 24 * time.Hour

// Policy is what the core asks about members, torrents and rules. The
// tracker/policy package implements it over caches of Postgres; every method
// is called on the hot path and must be fast and safe for concurrent use.
type Policy interface {
	// UserByPasskey returns nil for an unknown passkey.
	UserByPasskey(passkey string) *User
	// TorrentByInfoHash returns nil for an unregistered torrent.
	TorrentByInfoHash(infoHash [20]byte) *Torrent
	// Clients returns the client rules in force (never nil).
	Clients() *ClientRules
	// SitePromotion returns the site-wide promotion window in force at t, or nil.
	SitePromotion(t time.Time) *Promotion
	// Seedbox says whether addr lies in a seedbox range the member declared,
	// and whether that range counts towards the IP cap.
	Seedbox(userID uint64, addr netip.Addr) (declared, counts bool)
}

// AuthkeyResolver is implemented by a Policy that knows NexusPHP's tracker
// report authkeys ("TORRENT|USER|HASH", announce.php?authkey=): it returns
// the passkey of the member the authkey proves, or false.
type AuthkeyResolver interface {
	PasskeyByAuthkey(authkey string) (passkey string, ok bool)
}

// Request is a parsed announce. Slices point into the caller's buffers and
// are only read during Announce.
type Request struct {
	Passkey    string
	InfoHash   []byte // 20 bytes when well-formed
	PeerID     []byte // 20 bytes when well-formed
	Addr       netip.Addr
	Port       uint16
	Uploaded   uint64
	Downloaded uint64
	Left       uint64
	Corrupt    uint64
	Event      events.Event
	NumWant    int // negative: not given
	Key        []byte
	UserAgent  string
	Headers    Headers // browser headers present (live requests only)
	ParamOrder []string
	// Malformed, when set, is the reason the query could not be parsed: the
	// announce is refused with it.
	Malformed string
}

// Peer is one entry of a peer list.
type Peer struct {
	ID   [20]byte
	Addr [16]byte // IPv4 in the first 4 bytes when Is4
	Port uint16
	Is4  bool
}

// Answer is what the client is told. Reuse one per goroutine: Peers keeps its
// capacity across calls.
type Answer struct {
	Failure     string         // set: refusal, nothing else applies
	Refusal     events.Refusal // the refusal's code (for metrics)
	Warning     string
	Interval    int // seconds
	MinInterval int // seconds
	Complete    uint32
	Incomplete  uint32
	Peers       []Peer
}

func (a *Answer) reset() {
	a.Failure, a.Warning, a.Refusal = "", "", events.Refusal_REFUSAL_NONE
	a.Interval, a.MinInterval, a.Complete, a.Incomplete = 0, 0, 0, 0
	a.Peers = a.Peers[:0]
}

// Config tunes the core.
type Config struct {
	Interval    time.Duration // announce interval told to clients (default 30 min)
	Jitter      time.Duration // random extra added to Interval (default 0)
	MinInterval time.Duration // announcing sooner draws a warning (default Interval/2)
	NumWant     int           // default number of peers (default 50)
	MaxNumWant  int           // cap on numwant (default 50)
	MaxIPs      int           // locations a member may announce from at once (default 3)
	MaxPeers    int           // peers per member per torrent (default 3)
	// BlockedPorts are refused as listening ports (nil: DefaultBlockedPorts).
	BlockedPorts []uint16
	// BadPasskeyLimit unknown passkeys from one source (an IPv4 address,
	// an IPv6 /64) within BadPasskeyWindow block that source's unknown
	// passkeys until the window ends (default 10 per minute); valid
	// passkeys from it are served.
	BadPasskeyLimit  int
	BadPasskeyWindow time.Duration
	// Epoch, when set, is the oldest time the core will be told about:
	// the start of the events a restart replays (Learn). Zero: New's time.
	Epoch time.Time
	// Events, when set, is where events come from; the sink gives them back
	// (see EventPool). Nil: each event is a fresh allocation.
	Events *EventPool
}

// DefaultBlockedPorts are well-known service and file-sharing ports that a
// BitTorrent client should never listen on.
var DefaultBlockedPorts = []uint16{0, 22, 25, 53, 80, 110, 143, 443, 445, 411, 412, 413, 1214, 4662, 6346, 6347, 6699}

func (c Config) withDefaults() Config {
	if c.Interval <= 0 {
		c.Interval = 30 * time.Minute
	}
	if c.MinInterval <= 0 {
		c.MinInterval = c.Interval / 2
	}
	if c.NumWant <= 0 {
		c.NumWant = 50
	}
	if c.MaxNumWant <= 0 {
		c.MaxNumWant = 50
	}
	if c.NumWant > c.MaxNumWant {
		c.NumWant = c.MaxNumWant
	}
	if c.MaxIPs <= 0 {
		c.MaxIPs = 3
	}
	if c.MaxPeers <= 0 {
		c.MaxPeers = 3
	}
	if c.BlockedPorts == nil {
		c.BlockedPorts = DefaultBlockedPorts
	}
	if c.BadPasskeyLimit <= 0 {
		c.BadPasskeyLimit = 10
	}
	if c.BadPasskeyWindow <= 0 {
		c.BadPasskeyWindow = time.Minute
	}
	return c
}
