package reports

import (
	"context"
	"encoding/hex"
	"net/http"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

var (
	sqlSearchMembers  = query("search_members")
	sqlSearchTorrents = query("search_torrents")
	sqlSeedboxes      = query("seedboxes")
	sqlAllowlist      = query("allowlist")
)

// SearchResult is what one query found: members (by id, passkey or name),
// torrents (by id, info_hash or name), and for an address or range the
// members seen on it, the seedbox ranges and allowlist entries covering it.
type SearchResult struct {
	Query     string          `json:"query"`
	Kind      string          `json:"kind"` // what the query was read as
	Members   []MemberRef     `json:"members"`
	Torrents  []TorrentRef    `json:"torrents"`
	Range     string          `json:"range,omitempty"`
	Seen      []AddressMember `json:"seen_on_range"`
	Seedboxes []Seedbox       `json:"seedboxes"`
	Allowlist []AllowEntry    `json:"allowlist"`
	Note      string          `json:"note,omitempty"`
}

// TorrentRef is a torrent found by a search.
type TorrentRef struct {
	ID        int64  `json:"id"`
	Name      string `json:"name"`
	InfoHash  string `json:"info_hash"`
	Size      int64  `json:"size"`
	Promotion string `json:"promotion"`
}

var (
	passkeyRe  = regexp.MustCompile(`^[0-9A-Za-z]{32}$`)
	infoHashRe = regexp.MustCompile(`^[0-9A-Fa-f]{40}$`)
)

// likeEscape escapes LIKE's wildcards so a name is matched as typed.
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// Search reads q as an address or CIDR, an info_hash, a passkey, an id or a
// name, and finds what it names. Addresses need the activity reader
// (ClickHouse) for the members seen on them; without it the result says so.
func (s *Server) Search(ctx context.Context, q string) (SearchResult, error) {
	q = strings.TrimSpace(q)
	res := SearchResult{Query: q, Members: []MemberRef{}, Torrents: []TorrentRef{}, Seen: []AddressMember{},
		Seedboxes: []Seedbox{}, Allowlist: []AllowEntry{}}
	if q == "" {
		return res, InputError{"type a member name or id, a passkey, an info_hash or torrent name, or an IP address or CIDR"}
	}
	if len(q) > 200 {
		return res, InputError{"the search is at most 200 characters"}
	}
	if p, ok := parseRange(q); ok {
		res.Kind, res.Range = "address", p.String()
		return res, s.searchRange(ctx, p, &res)
	}
	var id int64 = -1
	var pk string
	var ih []byte
	name := likeEscape(q)
	switch {
	case infoHashRe.MatchString(q):
		res.Kind, name = "info_hash", ""
		ih, _ = hex.DecodeString(q)
	case passkeyRe.MatchString(q):
		res.Kind, pk, name = "passkey", q, ""
		res.Query = redactPasskey(q) // never echoed in full
	default:
		res.Kind = "name"
		if n, err := strconv.ParseInt(strings.TrimPrefix(q, "#"), 10, 64); err == nil && n > 0 {
			res.Kind, id = "id", n
		}
	}
	var err error
	if res.Members, err = collect(ctx, s.store, sqlSearchMembers, "members found", scanMemberRef, id, pk, name); err != nil {
		return res, err
	}
	if ih == nil {
		ih = []byte{}
	}
	if res.Torrents, err = collect(ctx, s.store, sqlSearchTorrents, "torrents found", func(row pgx.CollectableRow) (TorrentRef, error) {
		var t TorrentRef
		return t, row.Scan(&t.ID, &t.Name, &t.InfoHash, &t.Size, &t.Promotion)
	}, id, ih, name); err != nil {
		return res, err
	}
	return res, nil
}

// parseRange reads an address (as its single-address prefix) or a CIDR.
func parseRange(q string) (netip.Prefix, bool) {
	if a, err := netip.ParseAddr(q); err == nil {
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), true
	}
	if p, err := netip.ParsePrefix(q); err == nil {
		if p.Addr().Is4In6() && p.Bits() >= 96 { // ::ffff:a.b.c.d/120 is a.b.c.d/24
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		return p.Masked(), true
	}
	return netip.Prefix{}, false
}

// lastAddr is the highest address of a prefix.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 1 << (7 - i%8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

func (s *Server) searchRange(ctx context.Context, p netip.Prefix, res *SearchResult) error {
	var err error
	if res.Seedboxes, err = s.store.Seedboxes(ctx, &p); err != nil {
		return err
	}
	if res.Allowlist, err = s.store.Allowlist(ctx, &p); err != nil {
		return err
	}
	if s.activity == nil {
		res.Note = "ClickHouse is not configured: members seen on this range are not shown"
		return nil
	}
	seen, err := s.activity.AddressMembers(ctx, p.Masked().Addr(), lastAddr(p), time.Now(), 90)
	if err != nil {
		s.log.Error("search range", "range", p, "err", err)
		res.Note = "ClickHouse is not answering: members seen on this range are missing"
		return nil
	}
	ids := make([]int64, len(seen))
	for i, m := range seen {
		ids[i] = int64(m.UserID)
	}
	names, err := s.store.MemberNames(ctx, ids)
	if err != nil {
		return err
	}
	for i := range seen {
		seen[i].Name = names[int64(seen[i].UserID)]
	}
	res.Seen = seen
	return nil
}

func scanMemberRef(row pgx.CollectableRow) (MemberRef, error) {
	var r MemberRef
	return r, row.Scan(&r.ID, &r.Name, &r.Class, &r.Enabled, &r.CanLeech, &r.CreditedRatio, &r.OpenReports)
}

// Seedboxes returns the declared seedbox ranges, all or those overlapping within.
func (s *Store) Seedboxes(ctx context.Context, within *netip.Prefix) ([]Seedbox, error) {
	return collect(ctx, s, sqlSeedboxes, "seedbox ranges", func(row pgx.CollectableRow) (Seedbox, error) {
		var b Seedbox
		return b, row.Scan(&b.ID, &b.UserID, &b.UserName, &b.CIDR, &b.CountsForCap, &b.Note, &b.CreatedAt)
	}, prefixArg(within))
}

// Allowlist returns the detector allowlist, all or the networks overlapping within.
func (s *Store) Allowlist(ctx context.Context, within *netip.Prefix) ([]AllowEntry, error) {
	return collect(ctx, s, sqlAllowlist, "detector allowlist", func(row pgx.CollectableRow) (AllowEntry, error) {
		var a AllowEntry
		return a, row.Scan(&a.ID, &a.Kind, &a.UserID, &a.UserName, &a.CIDR, &a.Reason, &a.CreatedBy, &a.CreatedAt)
	}, prefixArg(within))
}

func prefixArg(p *netip.Prefix) any {
	if p == nil {
		return nil
	}
	return p.String()
}

func (s *Server) searchAPI(w http.ResponseWriter, r *http.Request) {
	res, err := s.Search(r.Context(), r.URL.Query().Get("q"))
	if err != nil {
		s.fail(w, r, statusFor(err), publicError(err), err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) searchPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query().Get("q")
	res, err := s.Search(r.Context(), q)
	data := s.pageData(r, "Search")
	data["Result"] = res
	status := http.StatusOK
	if err != nil {
		data["Error"], status = publicError(err), statusFor(err)
	}
	// One member or one torrent found by id, passkey or info_hash: straight to it.
	if err == nil && res.Kind != "name" && res.Kind != "address" {
		if len(res.Members) == 1 && len(res.Torrents) == 0 {
			http.Redirect(w, r, "/members/"+strconv.FormatInt(res.Members[0].ID, 10), http.StatusSeeOther)
			return
		}
		if len(res.Torrents) == 1 && len(res.Members) == 0 {
			http.Redirect(w, r, "/torrents/"+strconv.FormatInt(res.Torrents[0].ID, 10), http.StatusSeeOther)
			return
		}
	}
	s.render(w, r, status, "search", data)
}
