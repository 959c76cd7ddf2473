package sitedb

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"github.com/go-sql-driver/mysql"
)

// Kind is the site application whose database is read.
type Kind string

// The site applications sitedb reads.
const (
	Gazelle  Kind = "gazelle"
	Unit3d   Kind = "unit3d"
	NexusPHP Kind = "nexusphp"
)

// ParseKind reads --from.
func ParseKind(s string) (Kind, error) {
	switch k := Kind(s); k {
	case Gazelle, Unit3d, NexusPHP:
		return k, nil
	}
	return "", fmt.Errorf("--from %q: not gazelle, unit3d or nexusphp", s)
}

// Row names the site's row a record was read from.
type Row struct {
	Table string // users_main, users, torrents
	IDCol string // ID, id
	ID    int64
}

func (r Row) String() string { return fmt.Sprintf("%s %s %d", r.Table, r.IDCol, r.ID) }

// Member is one member as the site's database has it.
type Member struct {
	Row      Row
	Name     string
	Passkey  string
	Class    string // the class or group name
	Enabled  bool   // may announce, as the site's tracker decides (false: disabled at import)
	CanLeech bool   // false: Control.NoLeech
	Inviter  int64  // the inviter's site id; 0: nobody
	Created  *time.Time
	// ReportSecrets: NexusPHP's torrent_secrets by site torrent id (0: every
	// torrent); nil for the other sites.
	ReportSecrets map[int64]string
	// Opening is the member's lifetime record on the site (nil: not read).
	Opening *Opening
	// Snatches and Peers are the member's whole snatch history and active
	// peers on the old tracker, when Snapshot.HasSnatches / HasPeers.
	Snatches []Snatch
	Peers    []Peer
}

// Opening is a member's lifetime totals on the site.
type Opening struct {
	Uploaded, Downloaded int64
	Seedtime             int64 // seconds
	Bonus                float64
}

// Snatch is a torrent the member completed on the site.
type Snatch struct {
	Torrent              int64 // the torrent's site id
	Completed            time.Time
	Seedtime             int64 // seconds seeded on the site
	LastSeeded           *time.Time
	Uploaded, Downloaded int64
}

// Peer is an active peer of the member on the old tracker, with the
// counters of its last announce there.
type Peer struct {
	Torrent                    int64 // the torrent's site id
	PeerID                     []byte
	Addr                       netip.AddrPort
	Uploaded, Downloaded, Left int64
	Announced                  time.Time
}

// Torrent is one torrent as the site's database has it.
type Torrent struct {
	Row        Row
	InfoHash   []byte
	Name       string
	Size       int64
	Promo      string // a site file promo: none, free, neutral, 50%, 2x, 25%+2x, ...
	PromoUntil *time.Time
	Created    *time.Time
	Uploader   int64 // the uploader's site id; 0: nobody
}

// Snapshot is what Read found.
type Snapshot struct {
	Kind     Kind
	Members  []Member
	Torrents []Torrent
	// Left lists the rows read and deliberately not imported, by reason
	// (e.g. "torrents soft-deleted (deleted_at set): not registered") with
	// their count.
	Left map[string]int
	// Control is what the control protocols' tables keep (ApplyControl).
	Control Control
	// HasSnatches, HasPeers: the site's snatch history, active peers were
	// read (every member's whole list is then given, possibly empty).
	HasSnatches, HasPeers bool

	records [2][]source // of the File last returned: members, torrents
}

func (s *Snapshot) leave(reason string) {
	if s.Left == nil {
		s.Left = map[string]int{}
	}
	s.Left[reason]++
}

// Open connects to the site's database (a go-sql-driver/mysql DSN, e.g.
// user:pass@tcp(127.0.0.1:3306)/gazelle); times are read as UTC
// time.Time whatever the DSN says.
func Open(dsn string) (*sql.DB, error) {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("site database DSN: %w", err)
	}
	cfg.ParseTime = true
	if cfg.Loc == nil {
		cfg.Loc = time.UTC
	}
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		return nil, fmt.Errorf("site database: %w", err)
	}
	return db, nil
}

// Read reads the site's members and torrents in one consistent snapshot
// (a read-only REPEATABLE READ transaction).
func Read(ctx context.Context, db *sql.DB, kind Kind, log *slog.Logger) (*Snapshot, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var r reader
	switch kind {
	case Gazelle:
		r = gazelle{}
	case Unit3d:
		r = unit3d{}
	case NexusPHP:
		r = nexusphp{}
	default:
		return nil, fmt.Errorf("read site database: unknown site %q", kind)
	}
	tx, err := db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("read %s database: %w", kind, err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only
	s := &Snapshot{Kind: kind}
	t0 := time.Now()
	if err := r.members(ctx, tx, s); err != nil {
		return nil, fmt.Errorf("read %s members: %w", kind, err)
	}
	log.Debug("read site database", "site", kind, "members", len(s.Members), "took", time.Since(t0))
	t0 = time.Now()
	if err := r.torrents(ctx, tx, s); err != nil {
		return nil, fmt.Errorf("read %s torrents: %w", kind, err)
	}
	log.Debug("read site database", "site", kind, "torrents", len(s.Torrents), "took", time.Since(t0))
	if err := r.control(ctx, tx, s); err != nil {
		return nil, fmt.Errorf("read %s tokens, groups and client lists: %w", kind, err)
	}
	t0 = time.Now()
	if err := r.history(ctx, tx, s); err != nil {
		return nil, fmt.Errorf("read %s opening balances, snatches and peers: %w", kind, err)
	}
	log.Debug("read site database", "site", kind, "step", "history", "took", time.Since(t0))
	return s, nil
}

// reader reads one site application's schema.
type reader interface {
	members(ctx context.Context, tx *sql.Tx, s *Snapshot) error
	torrents(ctx context.Context, tx *sql.Tx, s *Snapshot) error
	control(ctx context.Context, tx *sql.Tx, s *Snapshot) error
	history(ctx context.Context, tx *sql.Tx, s *Snapshot) error
}

// byID indexes the snapshot's members and torrents by site id.
func (s *Snapshot) byID() (members, torrents map[int64]int) {
	members, torrents = make(map[int64]int, len(s.Members)), make(map[int64]int, len(s.Torrents))
	for i, m := range s.Members {
		members[m.Row.ID] = i
	}
	for i, t := range s.Torrents {
		torrents[t.Row.ID] = i
	}
	return members, torrents
}

// each runs q and calls scan for every row (scan reads it with rows.Scan).
func each(ctx context.Context, tx *sql.Tx, q string, scan func(rows *sql.Rows) error) error {
	rows, err := tx.QueryContext(ctx, q)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// when is a nullable site time: NULL and MySQL's zero date are no time.
func when(t sql.NullTime) *time.Time {
	if !t.Valid || t.Time.IsZero() || t.Time.Year() < 1970 {
		return nil
	}
	u := t.Time.UTC()
	return &u
}

// minTime is the earliest time a site file takes (1990-01-01).
var minTime = time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC)

// addMember takes a member read from the site; one who may not leech is
// also a control entry (the control protocols keep can_leech apart).
func (s *Snapshot) addMember(m Member) {
	if !m.CanLeech {
		s.Control.NoLeech = append(s.Control.NoLeech, m.Row)
	}
	s.Members = append(s.Members, m)
}

// addSnatch gives member i a snatch; one with a completion time that is
// none (Unix 0) is left out and counted.
func (s *Snapshot) addSnatch(i int, sn Snatch) {
	if sn.Completed.Before(minTime) || sn.LastSeeded != nil && sn.LastSeeded.Before(minTime) {
		s.leave("snatches without a completion time: not imported")
		return
	}
	s.Members[i].Snatches = append(s.Members[i].Snatches, sn)
}

// addPeer gives the member with site id user the peer p at addr:port
// (addrOK: the site's address parsed; port 0: unknown, as Gazelle keeps
// none), last announced at; a peer of a member or torrent not read, or
// without an address, peer_id or time, or with a port out of range, is
// left out and counted.
func (s *Snapshot) addPeer(members, torrents map[int64]int, user int64, p Peer, addr netip.Addr, addrOK bool, port int, at *time.Time) error {
	i, ok := members[user]
	_, known := torrents[p.Torrent]
	switch {
	case !ok || !known:
		s.leave("peers of a member or torrent not read: not imported")
		return nil
	case !addrOK || port < 0 || port > 65535 || len(p.PeerID) != 20 || at == nil || at.Before(minTime):
		s.leave("peers without an address, peer_id or time, or with a port out of range: not imported")
		return nil
	}
	p.Addr, p.Announced = netip.AddrPortFrom(addr.Unmap(), uint16(port)), *at
	s.Members[i].Peers = append(s.Members[i].Peers, p)
	return nil
}
