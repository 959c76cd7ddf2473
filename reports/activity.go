package reports

import (
	"context"
	"encoding/hex"
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/ratioguard/ratioguard/internal/chconn"
)

// Activity reads what members and torrents did from ClickHouse's raw
// announces: addresses and networks, clients, daily and hourly totals.
type Activity struct {
	conn chconn.Conn
}

// NewActivity reads activity over conn.
func NewActivity(conn chconn.Conn) *Activity { return &Activity{conn: conn} }

// IPSeen is an address a member announced from.
type IPSeen struct {
	IP        string    `json:"ip"`
	Network   string    `json:"network"` // the /24 (IPv4) or /64 (IPv6)
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	Announces uint64    `json:"announces"`
}

// NetworkPeer is another member seen on one of the member's networks.
type NetworkPeer struct {
	Network   string    `json:"network"`
	UserID    uint64    `json:"user_id"`
	Name      string    `json:"name,omitempty"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	Announces uint64    `json:"announces"`
}

// ClientSeen is a client (peer_id prefix and user agent) a member announced with.
type ClientSeen struct {
	PeerIDPrefix string    `json:"peer_id_prefix"` // e.g. "-qB4650-"
	Client       string    `json:"client"`         // e.g. "-qB"
	Version      string    `json:"version"`        // e.g. "4.6.5.0"
	UserAgent    string    `json:"user_agent"`
	FirstSeen    time.Time `json:"first_seen"`
	LastSeen     time.Time `json:"last_seen"`
	Announces    uint64    `json:"announces"`
	PeerIDs      uint64    `json:"peer_ids"`
}

// MemberActivity is a member's history over a window of days.
type MemberActivity struct {
	From     time.Time     `json:"from"`
	Until    time.Time     `json:"until"`
	RawFrom  time.Time     `json:"raw_from"` // addresses and clients are read from here on
	IPs      []IPSeen      `json:"ips"`
	Networks []NetworkSeen `json:"networks"`
	Others   []NetworkPeer `json:"others_on_networks"`
	Clients  []ClientSeen  `json:"clients"`
	Daily    []Series      `json:"daily"` // uploaded, downloaded (bytes), networks, user agents per day
}

// AddressMember is a member seen on an address of a searched range.
type AddressMember struct {
	UserID    uint64    `json:"user_id"`
	Name      string    `json:"name,omitempty"`
	IP        string    `json:"ip"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	Announces uint64    `json:"announces"`
}

// window is the day-aligned window of days ending with today (UTC).
func window(now time.Time, days int) (from, until time.Time) {
	until = now.UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)
	return until.AddDate(0, 0, -days), until
}

func (a *Activity) rows(ctx context.Context, name string, scan func(func(...any) error) error, args map[string]any) error {
	named := make([]any, 0, len(args))
	keys := make([]string, 0, len(args))
	for k := range args {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		named = append(named, clickhouse.Named(k, args[k]))
	}
	rows, err := a.conn.Query(ctx, query("ch_"+name), named...)
	if err != nil {
		return fmt.Errorf("clickhouse %s: %w", name, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows.Scan); err != nil {
			return fmt.Errorf("clickhouse %s: %w", name, err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("clickhouse %s: %w", name, err)
	}
	return nil
}

// RawDays is how far back a member's single addresses and clients are read
// from the raw announces. The raw table is ordered by hour first, so a
// member's rows are found by reading every row of the window: 7 days keeps
// that bounded; networks, daily totals and who shares a network come from
// the hourly rollups (ordered by member) over the whole window.
const RawDays = 7

// NetworkSeen is a network (/24, /64) a member announced from.
type NetworkSeen struct {
	Network    string    `json:"network"`
	FirstSeen  time.Time `json:"first_seen"` // hour
	LastSeen   time.Time `json:"last_seen"`  // hour
	Announces  uint64    `json:"announces"`
	Uploaded   uint64    `json:"uploaded"`
	Downloaded uint64    `json:"downloaded"`
}

// Member reads a member's networks, members sharing them and daily totals
// over the last days days (hourly rollups), and single addresses and
// clients over the last RawDays days (raw announces). The queries run at once.
func (a *Activity) Member(ctx context.Context, userID int64, now time.Time, days int) (MemberActivity, error) {
	from, until := window(now, days)
	rawFrom, _ := window(now, min(days, RawDays))
	out := MemberActivity{From: from, Until: until, RawFrom: rawFrom, IPs: []IPSeen{}, Networks: []NetworkSeen{},
		Others: []NetworkPeer{}, Clients: []ClientSeen{}}
	args := map[string]any{"from": uint32(from.Unix()), "user": uint64(userID)}
	rawArgs := map[string]any{"from": uint32(rawFrom.Unix()), "user": uint64(userID)}
	step := 24 * time.Hour
	up := Series{Name: "uploaded per day (raw)", Unit: "bytes", From: from, Until: until, Step: step}
	down := Series{Name: "downloaded per day (raw)", Unit: "bytes", From: from, Until: until, Step: step}
	nets := Series{Name: "networks per day", From: from, Until: until, Step: step}
	agents := Series{Name: "clients (user agents) per day", From: from, Until: until, Step: step}
	err := parallel(
		func() error {
			return a.rows(ctx, "member_ips", func(scan func(...any) error) error {
				var ip, network string
				var s IPSeen
				if err := scan(&ip, &network, &s.FirstSeen, &s.LastSeen, &s.Announces); err != nil {
					return err
				}
				s.IP, s.Network = formatIP(ip), formatNetwork(network)
				out.IPs = append(out.IPs, s)
				return nil
			}, rawArgs)
		},
		func() error {
			return a.rows(ctx, "member_networks", func(scan func(...any) error) error {
				var network string
				var s NetworkSeen
				if err := scan(&network, &s.FirstSeen, &s.LastSeen, &s.Announces, &s.Uploaded, &s.Downloaded); err != nil {
					return err
				}
				s.Network = formatNetwork(network)
				out.Networks = append(out.Networks, s)
				return nil
			}, args)
		},
		func() error {
			return a.rows(ctx, "member_network_others", func(scan func(...any) error) error {
				var network string
				var p NetworkPeer
				if err := scan(&network, &p.UserID, &p.FirstSeen, &p.LastSeen, &p.Announces); err != nil {
					return err
				}
				p.Network = formatNetwork(network)
				out.Others = append(out.Others, p)
				return nil
			}, args)
		},
		func() error {
			return a.rows(ctx, "member_clients", func(scan func(...any) error) error {
				var prefix string
				var c ClientSeen
				if err := scan(&prefix, &c.UserAgent, &c.FirstSeen, &c.LastSeen, &c.Announces, &c.PeerIDs); err != nil {
					return err
				}
				c.PeerIDPrefix = printable(prefix)
				c.Client, c.Version = clientOf(prefix)
				out.Clients = append(out.Clients, c)
				return nil
			}, rawArgs)
		},
		func() error {
			return a.rows(ctx, "member_daily", func(scan func(...any) error) error {
				var day time.Time
				var u, d, n, ua uint64
				if err := scan(&day, &u, &d, &n, &ua); err != nil {
					return err
				}
				// A day's total is drawn at noon of the day.
				t := time.Date(day.Year(), day.Month(), day.Day(), 12, 0, 0, 0, time.UTC)
				up.Add(t, float64(u))
				down.Add(t, float64(d))
				nets.Add(t, float64(n))
				agents.Add(t, float64(ua))
				return nil
			}, args)
		},
	)
	out.Daily = []Series{up, down, nets, agents}
	return out, err
}

// parallel runs fs at once and returns the first error.
func parallel(fs ...func() error) error {
	errs := make(chan error, len(fs))
	for _, f := range fs {
		go func() { errs <- f() }()
	}
	var first error
	for range fs {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Torrent reads a torrent's hourly swarm over the last days days from the
// hourly rollup: seeders, leechers, raw bytes up and down.
func (a *Activity) Torrent(ctx context.Context, torrentID int64, now time.Time, days int) ([]Series, error) {
	from, until := window(now, days)
	mk := func(name, unit string) Series {
		return Series{Name: name, Unit: unit, From: from, Until: until, Step: time.Hour}
	}
	seeders, leechers := mk("seeders (hourly max)", ""), mk("leechers (hourly max)", "")
	up, down := mk("uploaded per hour (raw)", "bytes"), mk("downloaded per hour (raw)", "bytes")
	err := a.rows(ctx, "torrent_hourly", func(scan func(...any) error) error {
		var h time.Time
		var s, l uint32
		var u, d uint64
		if err := scan(&h, &s, &l, &u, &d); err != nil {
			return err
		}
		t := h.UTC().Add(30 * time.Minute)
		seeders.Add(t, float64(s))
		leechers.Add(t, float64(l))
		up.Add(t, float64(u))
		down.Add(t, float64(d))
		return nil
	}, map[string]any{"from": uint32(from.Unix()), "torrent": uint64(torrentID)})
	return []Series{seeders, leechers, up, down}, err
}

// AddressMembers reads the members seen on addresses lo..hi over the last days days.
func (a *Activity) AddressMembers(ctx context.Context, lo, hi netip.Addr, now time.Time, days int) ([]AddressMember, error) {
	from, _ := window(now, days)
	l16, h16 := lo.As16(), hi.As16()
	out := []AddressMember{}
	err := a.rows(ctx, "ip_members", func(scan func(...any) error) error {
		var ip string
		var m AddressMember
		if err := scan(&m.UserID, &ip, &m.FirstSeen, &m.LastSeen, &m.Announces); err != nil {
			return err
		}
		m.IP = formatIP(ip)
		out = append(out, m)
		return nil
	}, map[string]any{"from": uint32(from.Unix()), "lo": hex.EncodeToString(l16[:]), "hi": hex.EncodeToString(h16[:])})
	return out, err
}

// formatIP prints a FixedString(16) address (IPv4-mapped for IPv4).
func formatIP(b string) string {
	if len(b) != 16 {
		return "?"
	}
	var a [16]byte
	copy(a[:], b)
	return netip.AddrFrom16(a).Unmap().String()
}

// formatNetwork prints a stored network as a prefix: /24 for IPv4, /64 for IPv6.
func formatNetwork(b string) string {
	if len(b) != 16 {
		return "?"
	}
	var a [16]byte
	copy(a[:], b)
	addr := netip.AddrFrom16(a).Unmap()
	bits := 64
	if addr.Is4() {
		bits = 24
	}
	return netip.PrefixFrom(addr, bits).Masked().String()
}

// printable shows a peer_id prefix with bytes outside ASCII as %XX.
func printable(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 0x20 && c < 0x7f && c != '%' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// clientOf reads an Azureus-style peer_id prefix ("-qB4650-"): the client
// ("-qB") and its version ("4.6.5.0"); other styles give the first
// characters as the client and no version.
func clientOf(prefix string) (client, version string) {
	if len(prefix) >= 8 && prefix[0] == '-' && prefix[7] == '-' {
		digits := prefix[3:7]
		parts := make([]string, 0, 4)
		for i := 0; i < len(digits); i++ {
			parts = append(parts, string(digits[i]))
		}
		return prefix[:3], strings.Join(parts, ".")
	}
	if len(prefix) >= 3 {
		return printable(prefix[:3]), ""
	}
	return printable(prefix), ""
}
