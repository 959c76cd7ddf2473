package site

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/ratioguard/ratioguard/tracker/admin"
)

// File is a validated site file: every record checked and normalised
// (info hashes decoded, CIDRs masked, promotions mapped), names unique.
type File struct {
	Members  []Member
	Torrents []Torrent
}

// Member is one member record. Optional fields are nil when the record
// leaves them out: an existing member keeps what it has.
type Member struct {
	Index     int // position in the file's members array
	Name      string
	Passkey   string
	Class     string
	Enabled   *bool
	InvitedBy *string // "" is invited by nobody
	// Seedboxes is the member's whole declared set (nil: left alone).
	Seedboxes *[]netip.Prefix
	Created   *time.Time
	// SiteID is the site application's id of the member (users.site_id:
	// the control protocols and the write-back address members by it); nil
	// keeps the member's.
	SiteID *int64
	// ReportSecrets is the member's whole set of NexusPHP tracker report
	// secrets by site torrent id (0: every torrent; nil: left alone).
	ReportSecrets *map[int64]string
	// Opening is the member's lifetime record on the site (nil: none in
	// this record). JSON "opening".
	Opening *Opening
	// Snatches is the member's whole snatch history on the site (nil: left
	// alone). JSON "snatches".
	Snatches *[]Snatch
	// Peers are the member's active peers on the old tracker with their
	// last counters (nil: left alone). JSON "peers".
	Peers *[]Peer
}

// Torrent is one torrent record.
type Torrent struct {
	Index    int
	InfoHash [20]byte
	Name     string
	Size     int64
	// Promo is nil when the record has no promo (an existing torrent keeps
	// its promotion; a new one has none).
	Promo      *admin.Promotion
	PromoUntil *time.Time
	Created    *time.Time
	Uploader   *string // member name; "" is nobody
	// SiteID is the site application's id of the torrent (torrents.site_id);
	// nil keeps the torrent's.
	SiteID *int64
}

// memberJSON and torrentJSON are the records as written in the file.
type memberJSON struct {
	Name         *string   `json:"name"`
	Passkey      *string   `json:"passkey"`
	Class        *string   `json:"class"`
	Enabled      *bool     `json:"enabled"`
	InvitedBy    *string   `json:"invited_by"`
	SeedboxCIDRs *[]string `json:"seedbox_cidrs"`
	CreatedTS    *int64    `json:"created_ts"`
	SiteID       *int64    `json:"site_id"`
	// NexusPHP's torrent_secrets of the member: site torrent id ("0": every
	// torrent) → secret.
	ReportSecrets *map[string]string `json:"report_secrets"`
	Opening       *json.RawMessage   `json:"opening"`
	Snatches      *[]json.RawMessage `json:"snatches"`
	Peers         *[]json.RawMessage `json:"peers"`
}

type torrentJSON struct {
	InfoHash     *string `json:"info_hash"`
	Name         *string `json:"name"`
	Size         *int64  `json:"size"`
	Promo        *string `json:"promo"`
	PromoUntilTS *int64  `json:"promo_until_ts"`
	CreatedTS    *int64  `json:"created_ts"`
	Uploader     *string `json:"uploader"`
	SiteID       *int64  `json:"site_id"`
	// Accepted and not stored (ratioguard has no column for them).
	Category    *string `json:"category"`
	PieceLength *int64  `json:"piece_length"`
}

// Problem is one thing wrong with one record.
type Problem struct {
	Record string `json:"record"` // e.g. members[12]
	Name   string `json:"name"`   // the member's name or the torrent's info_hash, when known
	Field  string `json:"field"`  // e.g. passkey, seedbox_cidrs[1]
	Msg    string `json:"message"`

	kind, index int // order: members, then torrents, by index
}

func (p Problem) String() string { return FormatProblem(p.Record, p.Name, p.Field, p.Msg) }

// FormatProblem is one problem as an import prints it: where it is (a
// record of the file, a row of the site's database), the name quoted, the
// field, the message.
func FormatProblem(where, name, field, msg string) string {
	var b strings.Builder
	b.WriteString(where)
	if name != "" {
		fmt.Fprintf(&b, " %q", name)
	}
	if field != "" {
		b.WriteString(": " + field)
	}
	b.WriteString(": " + msg)
	return b.String()
}

// InvalidError lists every problem of a site file. Nothing was written.
type InvalidError struct {
	Problems []Problem
}

// maxListed problems are spelled out in FormatProblems; the rest are counted.
const maxListed = 25

func (e *InvalidError) Error() string {
	return FormatProblems(fmt.Sprintf("%d invalid record field(s); nothing was imported:", len(e.Problems)), e.Problems)
}

// FormatProblems is header and then one indented line per problem, the
// first 25 spelled out and the rest counted.
func FormatProblems[P fmt.Stringer](header string, problems []P) string {
	var b strings.Builder
	b.WriteString(header)
	for i, p := range problems {
		if i == maxListed {
			fmt.Fprintf(&b, "\n  ... and %d more", len(problems)-maxListed)
			break
		}
		b.WriteString("\n  " + p.String())
	}
	return b.String()
}

// problems collects Problems while a file is checked.
type problems []Problem

// record names one record of the file: members[3], torrents[0].
type record struct {
	kind  string
	index int
}

func (ps *problems) add(r record, name, field, format string, a ...any) {
	p := Problem{Record: fmt.Sprintf("%s[%d]", r.kind, r.index), Name: name, Field: field, Msg: fmt.Sprintf(format, a...), index: r.index}
	if r.kind == "torrents" {
		p.kind = 1
	}
	*ps = append(*ps, p)
}

// err returns the problems in file order, or nil.
func (ps problems) err() error {
	if len(ps) == 0 {
		return nil
	}
	sort.SliceStable(ps, func(i, j int) bool {
		if ps[i].kind != ps[j].kind {
			return ps[i].kind < ps[j].kind
		}
		return ps[i].index < ps[j].index
	})
	return &InvalidError{Problems: ps}
}

// ReadFile parses and validates the site file at path.
func ReadFile(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open site file: %w", err)
	}
	defer f.Close()
	sf, err := Parse(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return sf, nil
}

// Parse reads a site file and checks every record on its own and against
// the others (unique names, passkeys and info hashes; inviters and
// uploaders that are not in the file are checked against the database by
// Import). A malformed document is an error; invalid records are one
// *InvalidError listing them all.
func Parse(r io.Reader) (*File, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	var doc struct {
		Members  []json.RawMessage `json:"members"`
		Torrents []json.RawMessage `json:"torrents"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("not a site file (an object with \"members\" and \"torrents\" arrays): %w", jsonErr(data, err))
	}
	if dec.More() {
		return nil, errors.New("not a site file: more than one JSON value")
	}
	var ps problems
	f := &File{Members: make([]Member, 0, len(doc.Members)), Torrents: make([]Torrent, 0, len(doc.Torrents))}
	for i, raw := range doc.Members {
		if m, ok := parseMember(i, raw, &ps); ok {
			f.Members = append(f.Members, m)
		}
	}
	for i, raw := range doc.Torrents {
		if t, ok := parseTorrent(i, raw, &ps); ok {
			f.Torrents = append(f.Torrents, t)
		}
	}
	f.checkUnique(&ps)
	f.checkInvites(&ps)
	if err := ps.err(); err != nil {
		return nil, err
	}
	return f, nil
}

// jsonErr adds the line and column of a syntax error.
func jsonErr(data []byte, err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line := 1 + bytes.Count(data[:se.Offset], []byte("\n"))
		col := se.Offset - int64(bytes.LastIndexByte(data[:se.Offset], '\n'))
		return fmt.Errorf("line %d column %d: %w", line, col, err)
	}
	return err
}

// decodeRecord decodes one record strictly (an unknown field is a typo that
// would otherwise leave a value alone silently) and returns its problem.
func decodeRecord(raw json.RawMessage, v any) string {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		return ""
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("field %s: %s is not a %s", te.Field, te.Value, jsonType(te.Type.Kind().String()))
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	if strings.HasPrefix(msg, "cannot unmarshal") {
		return "not an object"
	}
	return msg
}

func jsonType(kind string) string {
	switch {
	case strings.HasPrefix(kind, "int"):
		return "whole number"
	case kind == "ptr" || kind == "struct":
		return "valid value"
	}
	return kind
}

// nameOf reads a record's "name" (or "info_hash") for error messages when
// the record itself does not decode.
func nameOf(raw json.RawMessage, key string) string {
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		return ""
	}
	s, _ := m[key].(string)
	return s
}

func parseMember(i int, raw json.RawMessage, ps *problems) (Member, bool) {
	rec := record{"members", i}
	var j memberJSON
	if msg := decodeRecord(raw, &j); msg != "" {
		ps.add(rec, nameOf(raw, "name"), "", "%s", msg)
		return Member{}, false
	}
	m := Member{Index: i, Enabled: j.Enabled, InvitedBy: j.InvitedBy}
	if j.Name != nil {
		m.Name = *j.Name
	}
	before := len(*ps)
	bad := func(field, format string, a ...any) { ps.add(rec, m.Name, field, format, a...) }
	switch {
	case j.Name == nil || m.Name == "":
		bad("name", "missing or empty")
	case !cleanText(m.Name):
		bad("name", "has spaces around it or control characters")
	}
	switch {
	case j.Passkey == nil:
		bad("passkey", "missing")
	case !admin.ValidPasskey(*j.Passkey):
		bad("passkey", "%q is not 32 characters of [0-9A-Za-z]", *j.Passkey)
	default:
		m.Passkey = *j.Passkey
	}
	switch {
	case j.Class == nil:
		bad("class", "missing")
	case admin.CheckClass(*j.Class) != nil || !cleanText(*j.Class):
		bad("class", "%q: a class is a non-empty name without spaces around it or control characters", *j.Class)
	default:
		m.Class = *j.Class
	}
	if m.InvitedBy != nil && *m.InvitedBy != "" && *m.InvitedBy == m.Name {
		bad("invited_by", "a member cannot invite themselves")
	}
	if j.SeedboxCIDRs != nil {
		set := make([]netip.Prefix, 0, len(*j.SeedboxCIDRs))
		seen := map[netip.Prefix]bool{}
		for k, s := range *j.SeedboxCIDRs {
			p, err := parseSeedbox(s)
			if err != nil {
				bad(fmt.Sprintf("seedbox_cidrs[%d]", k), "%v", err)
				continue
			}
			if !seen[p] { // a range listed twice is declared once
				seen[p] = true
				set = append(set, p)
			}
		}
		m.Seedboxes = &set
	}
	if j.CreatedTS != nil {
		t, err := unixTime(*j.CreatedTS)
		if err != nil {
			bad("created_ts", "%v", err)
		}
		m.Created = &t
	}
	if j.SiteID != nil {
		if *j.SiteID <= 0 {
			bad("site_id", "%d is not a positive id", *j.SiteID)
		}
		m.SiteID = j.SiteID
	}
	if j.ReportSecrets != nil {
		set := make(map[int64]string, len(*j.ReportSecrets))
		for k, secret := range *j.ReportSecrets {
			tid, err := strconv.ParseInt(k, 10, 64)
			switch {
			case err != nil || tid < 0 || strconv.FormatInt(tid, 10) != k:
				bad("report_secrets", "key %q is not a site torrent id (0: every torrent)", k)
			case secret == "" || len(secret) > 255:
				bad("report_secrets["+k+"]", "the secret is %d bytes: 1 to 255", len(secret))
			default:
				set[tid] = secret
			}
		}
		m.ReportSecrets = &set
	}
	if j.Opening != nil {
		m.Opening = parseOpening(*j.Opening, bad)
	}
	if j.Snatches != nil {
		m.Snatches = parseSnatches(*j.Snatches, bad)
	}
	if j.Peers != nil {
		m.Peers = parsePeers(*j.Peers, bad)
	}
	return m, len(*ps) == before
}

func parseTorrent(i int, raw json.RawMessage, ps *problems) (Torrent, bool) {
	rec := record{"torrents", i}
	var j torrentJSON
	if msg := decodeRecord(raw, &j); msg != "" {
		ps.add(rec, nameOf(raw, "info_hash"), "", "%s", msg)
		return Torrent{}, false
	}
	t := Torrent{Index: i, Uploader: j.Uploader}
	label := ""
	if j.InfoHash != nil {
		label = *j.InfoHash
	}
	before := len(*ps)
	bad := func(field, format string, a ...any) { ps.add(rec, label, field, format, a...) }
	if j.InfoHash == nil {
		bad("info_hash", "missing")
	} else if b, err := hex.DecodeString(*j.InfoHash); err != nil || len(b) != 20 {
		bad("info_hash", "%q is not 40 hexadecimal digits", *j.InfoHash)
	} else {
		t.InfoHash = [20]byte(b)
		label = hex.EncodeToString(b)
	}
	if j.Name == nil || *j.Name == "" {
		bad("name", "missing or empty")
	} else {
		t.Name = *j.Name
	}
	if j.Size == nil || *j.Size <= 0 {
		bad("size", "missing or not a positive number of bytes")
	} else {
		t.Size = *j.Size
	}
	if j.Promo != nil {
		p, err := Promotion(*j.Promo)
		if err != nil {
			bad("promo", "%v", err)
		}
		t.Promo = &p
		if j.PromoUntilTS != nil {
			u, err := unixTime(*j.PromoUntilTS)
			if err != nil {
				bad("promo_until_ts", "%v", err)
			} else if p.Name == "none" {
				bad("promo_until_ts", "set without a promotion")
			}
			t.PromoUntil = &u
		}
	} else if j.PromoUntilTS != nil {
		bad("promo_until_ts", "set without promo")
	}
	if j.CreatedTS != nil {
		c, err := unixTime(*j.CreatedTS)
		if err != nil {
			bad("created_ts", "%v", err)
		}
		t.Created = &c
	}
	if j.PieceLength != nil && *j.PieceLength <= 0 {
		bad("piece_length", "not a positive number of bytes")
	}
	if j.SiteID != nil {
		if *j.SiteID <= 0 {
			bad("site_id", "%d is not a positive id", *j.SiteID)
		}
		t.SiteID = j.SiteID
	}
	return t, len(*ps) == before
}

// cleanText: no spaces around it, no control characters.
func cleanText(s string) bool {
	if strings.TrimSpace(s) != s {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// Seedbox ranges wider than these would take whole providers out of the
// detectors' network counts for one member.
const (
	minSeedboxBits4 = 16
	minSeedboxBits6 = 32
)

// parseSeedbox reads a declared seedbox range: a CIDR, or a bare address
// for that one address. Host bits set is an error (the intended range is
// ambiguous).
func parseSeedbox(s string) (netip.Prefix, error) {
	var p netip.Prefix
	if strings.Contains(s, "/") {
		var err error
		if p, err = netip.ParsePrefix(s); err != nil {
			return p, fmt.Errorf("%q is not a CIDR range or an address", s)
		}
	} else {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return p, fmt.Errorf("%q is not a CIDR range or an address", s)
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	if p.Masked() != p {
		return p, fmt.Errorf("%q has bits set after the /%d (the range is %s)", s, p.Bits(), p.Masked())
	}
	if p.Addr().Is4() && p.Bits() < minSeedboxBits4 || !p.Addr().Is4() && p.Bits() < minSeedboxBits6 {
		return p, fmt.Errorf("%q is wider than one member's seedbox can be (at most /%d for IPv4, /%d for IPv6)", s, minSeedboxBits4, minSeedboxBits6)
	}
	return p, nil
}

// unixTime reads a time in Unix seconds between 1990 and 2200 (a time in
// milliseconds is caught here).
func unixTime(ts int64) (time.Time, error) {
	const lo, hi = 631152000, 7258118400 // 1990-01-01, 2200-01-01
	if ts < lo || ts > hi {
		if ts/1000 >= lo && ts/1000 <= hi {
			return time.Time{}, fmt.Errorf("%d is not a time in Unix seconds (milliseconds?)", ts)
		}
		return time.Time{}, fmt.Errorf("%d is not a time in Unix seconds between 1990 and 2200", ts)
	}
	return time.Unix(ts, 0).UTC(), nil
}

// checkUnique: names, passkeys and info hashes appear once.
func (f *File) checkUnique(ps *problems) {
	names := make(map[string]int, len(f.Members))
	keys := make(map[string]int, len(f.Members))
	memberSiteIDs := map[int64]int{}
	for _, m := range f.Members {
		rec := record{"members", m.Index}
		if j, dup := names[m.Name]; dup {
			ps.add(rec, m.Name, "name", "also the name of members[%d]", j)
		} else {
			names[m.Name] = m.Index
		}
		if j, dup := keys[m.Passkey]; dup {
			ps.add(rec, m.Name, "passkey", "also the passkey of members[%d]", j)
		} else {
			keys[m.Passkey] = m.Index
		}
		if m.SiteID != nil {
			if j, dup := memberSiteIDs[*m.SiteID]; dup {
				ps.add(rec, m.Name, "site_id", "also the site_id of members[%d]", j)
			} else {
				memberSiteIDs[*m.SiteID] = m.Index
			}
		}
	}
	hashes := make(map[[20]byte]int, len(f.Torrents))
	torrentSiteIDs := map[int64]int{}
	for _, t := range f.Torrents {
		if j, dup := hashes[t.InfoHash]; dup {
			ps.add(record{"torrents", t.Index}, hex.EncodeToString(t.InfoHash[:]), "info_hash", "also the info_hash of torrents[%d]", j)
		} else {
			hashes[t.InfoHash] = t.Index
		}
		if t.SiteID != nil {
			if j, dup := torrentSiteIDs[*t.SiteID]; dup {
				ps.add(record{"torrents", t.Index}, hex.EncodeToString(t.InfoHash[:]), "site_id", "also the site_id of torrents[%d]", j)
			} else {
				torrentSiteIDs[*t.SiteID] = t.Index
			}
		}
	}
}

// checkInvites: no member is their own inviter through others in the file.
// (Inviters outside the file are checked by Import.)
func (f *File) checkInvites(ps *problems) {
	inviter := make(map[string]string, len(f.Members))
	for _, m := range f.Members {
		if m.InvitedBy != nil && *m.InvitedBy != "" {
			inviter[m.Name] = *m.InvitedBy
		}
	}
	done := map[string]bool{}
	for _, m := range f.Members {
		seen := map[string]bool{}
		var path []string
		for n := m.Name; n != "" && !done[n]; n = inviter[n] {
			path = append(path, n)
			if seen[n] {
				if n == m.Name {
					ps.add(record{"members", m.Index}, m.Name, "invited_by", "invites go round in a cycle: %s", strings.Join(path, " invited by "))
				}
				break
			}
			seen[n] = true
		}
		done[m.Name] = true
	}
}

// References returns the names of members the file refers to (inviters,
// uploaders) that it does not define: Import looks them up in the database.
func (f *File) References() []string {
	defined := make(map[string]bool, len(f.Members))
	for _, m := range f.Members {
		defined[m.Name] = true
	}
	var out []string
	seen := map[string]bool{}
	add := func(n *string) {
		if n != nil && *n != "" && !defined[*n] && !seen[*n] {
			seen[*n] = true
			out = append(out, *n)
		}
	}
	for _, m := range f.Members {
		add(m.InvitedBy)
	}
	for _, t := range f.Torrents {
		add(t.Uploader)
	}
	return out
}
