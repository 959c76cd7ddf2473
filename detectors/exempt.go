package detectors

import (
	"context"
	"fmt"
	"net/netip"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Exemptions says which members are never reported and which networks are
// left out of network counts.
type Exemptions struct {
	users     map[uint64]string         // member id → why exempt
	networks  []netip.Prefix            // allowlisted everywhere
	seedboxes map[uint64][]netip.Prefix // declared seedbox ranges per member
}

// NewExemptions builds exemptions from explicit lists (tests, config only).
func NewExemptions() *Exemptions {
	return &Exemptions{users: map[uint64]string{}, seedboxes: map[uint64][]netip.Prefix{}}
}

// ExemptUser marks a member as never reported.
func (e *Exemptions) ExemptUser(id uint64, reason string) { e.users[id] = reason }

// AllowNetwork leaves a network out of every count.
func (e *Exemptions) AllowNetwork(p netip.Prefix) { e.networks = append(e.networks, p.Masked()) }

// AddSeedbox declares a seedbox range of a member.
func (e *Exemptions) AddSeedbox(user uint64, p netip.Prefix) {
	e.seedboxes[user] = append(e.seedboxes[user], p.Masked())
}

// UserExempt reports whether the member is exempt and why.
func (e *Exemptions) UserExempt(id uint64) (string, bool) {
	r, ok := e.users[id]
	return r, ok
}

// Seedbox reports whether the network overlaps a declared seedbox of the member.
func (e *Exemptions) Seedbox(user uint64, network Network) bool {
	p := network.Prefix()
	for _, s := range e.seedboxes[user] {
		if s.Overlaps(p) {
			return true
		}
	}
	return false
}

// NetworkExempt reports whether a network is left out of the member's
// network counts: allowlisted, or one of their declared seedboxes.
func (e *Exemptions) NetworkExempt(user uint64, network Network) bool {
	p := network.Prefix()
	for _, s := range e.networks {
		if s.Overlaps(p) {
			return true
		}
	}
	return e.Seedbox(user, network)
}

// DefaultStaffClasses are the classes never reported by default (matched
// without regard to case): the built-in "staff" and the site operators and
// moderators of Gazelle (SysOp, Administrator, Developer, Lead Developer,
// Moderator, Torrent Moderator, Forum Moderator), UNIT3D (Owner,
// Administrator, Moderator, Bot) and NexusPHP (Staff Leader, SysOp,
// Administrator, Moderator) sites: the people who review the reports.
// Classes exempt only from ratio rules (Uploader, VIP, ...) are enforce's
// exempt_classes; the detectors still watch them.
func DefaultStaffClasses() []string {
	return []string{"staff", "owner", "sysop", "staff leader", "administrator", "admin",
		"moderator", "torrent moderator", "forum moderator", "developer", "lead developer", "bot"}
}

// LoadExemptions reads staff-class members, declared seedboxes and the
// detector_allowlist table from Postgres, plus the config's allowlists.
func LoadExemptions(ctx context.Context, pg *pgxpool.Pool, cfg *Config) (*Exemptions, error) {
	e := NewExemptions()
	for _, id := range cfg.AllowUsers {
		e.ExemptUser(id, "allowlisted in detector config")
	}
	for _, n := range cfg.AllowNetworks {
		p, err := parseCIDR(n)
		if err != nil {
			return nil, err
		}
		e.AllowNetwork(p)
	}
	if pg == nil {
		return e, nil
	}
	rows, err := pg.Query(ctx, `SELECT id, class FROM users
		WHERE lower(class) IN (SELECT lower(btrim(c)) FROM unnest($1::text[]) AS c)`, cfg.StaffClasses)
	if err != nil {
		return nil, fmt.Errorf("load staff-class members: %w", err)
	}
	for rows.Next() {
		var id int64
		var class string
		if err := rows.Scan(&id, &class); err != nil {
			rows.Close()
			return nil, fmt.Errorf("scan staff-class member: %w", err)
		}
		e.ExemptUser(uint64(id), "class "+class)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load staff-class members: %w", err)
	}
	rows, err = pg.Query(ctx, `SELECT user_id, cidr::text FROM seedbox_ranges`)
	if err != nil {
		return nil, fmt.Errorf("load seedbox ranges: %w", err)
	}
	for rows.Next() {
		var id int64
		var cidr string
		if err := rows.Scan(&id, &cidr); err != nil {
			rows.Close()
			return nil, fmt.Errorf("scan seedbox range: %w", err)
		}
		p, err := parseCIDR(cidr)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("seedbox range of user %d: %w", id, err)
		}
		e.AddSeedbox(uint64(id), p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load seedbox ranges: %w", err)
	}
	rows, err = pg.Query(ctx, `SELECT kind, coalesce(user_id, 0), coalesce(cidr::text, ''), reason FROM detector_allowlist`)
	if err != nil {
		return nil, fmt.Errorf("load detector allowlist: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var kind, cidr, reason string
		var id int64
		if err := rows.Scan(&kind, &id, &cidr, &reason); err != nil {
			return nil, fmt.Errorf("scan detector allowlist: %w", err)
		}
		switch kind {
		case "user":
			e.ExemptUser(uint64(id), "allowlisted: "+reason)
		case "network":
			p, err := parseCIDR(cidr)
			if err != nil {
				return nil, fmt.Errorf("detector allowlist: %w", err)
			}
			e.AllowNetwork(p)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load detector allowlist: %w", err)
	}
	return e, nil
}

func parseCIDR(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("network %q is neither an address nor a CIDR", s)
		}
		return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("network %q: %w", s, err)
	}
	return netip.PrefixFrom(p.Addr().Unmap(), min(p.Bits(), p.Addr().Unmap().BitLen())).Masked(), nil
}

// Network is a ClickHouse `network` value: the /24 (IPv4, IPv4-mapped) or
// /64 (IPv6) an address belongs to, as 16 bytes.
type Network [16]byte

// NetworkFromString converts the FixedString(16) ClickHouse returns.
func NetworkFromString(s string) Network {
	var n Network
	copy(n[:], s)
	return n
}

// Addr is the network's first address (IPv4 unmapped).
func (n Network) Addr() netip.Addr { return netip.AddrFrom16(n).Unmap() }

// IsV4 reports whether the network is IPv4.
func (n Network) IsV4() bool { return n.Addr().Is4() }

// Prefix is the /24 or /64 the network stands for.
func (n Network) Prefix() netip.Prefix {
	a := n.Addr()
	if a.Is4() {
		return netip.PrefixFrom(a, 24).Masked()
	}
	return netip.PrefixFrom(a, 64).Masked()
}

// String prints the prefix ("203.0.113.0/24").
func (n Network) String() string { return n.Prefix().String() }

// NetworkOf returns the Network of an address, as ingest computes it.
func NetworkOf(a netip.Addr) Network {
	var p netip.Prefix
	if a.Unmap().Is4() {
		p = netip.PrefixFrom(a.Unmap(), 24).Masked()
	} else {
		p = netip.PrefixFrom(a, 64).Masked()
	}
	return Network(netip.AddrFrom16(p.Addr().As16()).As16())
}
