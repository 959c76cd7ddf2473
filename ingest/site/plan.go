package site

import (
	"bytes"
	"math"
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/ratioguard/ratioguard/schemas/events"
)

// TokenPromotion is the part of a promotion's name (parts joined by "+")
// that says the announce was credited under a freeleech token (the
// tracker's core.TokenPromotion, which this package does not import): its raw
// download is recorded against the token (Gazelle users_freeleeches) and a
// completion expires the token on the site, as Ocelot does.
const TokenPromotion = "token"

// usedToken reports whether a promotion name carries TokenPromotion.
func usedToken(name string) bool {
	for part := range strings.SplitSeq(name, "+") {
		if part == TokenPromotion {
			return true
		}
	}
	return false
}

// pair is a member × torrent in the site's ids.
type pair struct{ user, torrent int64 }

// peerKey is one peer of a torrent in the site's ids.
type peerKey struct {
	torrent, user int64
	peer          [20]byte
}

// peerState is a peer as the batch's last announce of it left it, with
// what the batch's announces add up to.
type peerState struct {
	ip                      []byte
	port                    uint32
	agent                   string
	up, down, left, corrupt uint64
	active, seeder          bool
	first, last             time.Time
	announces, timespent    int64
	upspeed, downspeed      int64
}

// pairSums is what a batch adds to one member × torrent (UNIT3D history).
type pairSums struct {
	credUp, credDown, rawUp, rawDown, seedtime int64
	clientUp, clientDown                       uint64
	agent                                      string
	seeder, active                             bool
	first, last, completed                     time.Time
}

// torrentSums is what a batch adds to one torrent.
type torrentSums struct {
	seeders, leechers, snatches, balance int64
	last                                 time.Time
}

// userSums is what a batch credits one member.
type userSums struct{ up, down int64 }

type snatch struct {
	user, torrent int64
	at            time.Time
	ip            []byte
}

type tokenUse struct {
	down int64
	at   time.Time
}

// plan is a batch's accepted, fresh announces summed in the site's ids:
// everything the schema mappings write.
type plan struct {
	users    map[int64]*userSums
	pairs    map[pair]*pairSums
	torrents map[int64]*torrentSums
	peers    map[peerKey]*peerState
	snatches []snatch
	tokens   map[pair]*tokenUse
	expiries map[pair]time.Time
	newest   time.Time // the latest announce
}

func newPlan() *plan {
	return &plan{users: map[int64]*userSums{}, pairs: map[pair]*pairSums{}, torrents: map[int64]*torrentSums{},
		peers: map[peerKey]*peerState{}, tokens: map[pair]*tokenUse{}, expiries: map[pair]time.Time{}}
}

func (p *plan) empty() bool { return len(p.peers) == 0 && len(p.torrents) == 0 }

// torrent returns the sums of a torrent, created if missing.
func (p *plan) torrent(id int64) *torrentSums {
	tr := p.torrents[id]
	if tr == nil {
		tr = &torrentSums{}
		p.torrents[id] = tr
	}
	return tr
}

// add sums one announce of site member user on site torrent torrent.
func (p *plan) add(a *events.Announce, user, torrent int64) {
	t := time.Unix(0, a.GetTimeUnixNano()).UTC()
	stopped := a.GetEvent() == events.Event_EVENT_STOPPED
	seeder := a.GetLeft() == 0
	credUp, credDown := i64(a.GetCreditedUploaded()), i64(a.GetCreditedDownloaded())
	rawUp, rawDown := i64(a.GetDeltaUploaded()), i64(a.GetDeltaDownloaded())

	if credUp != 0 || credDown != 0 {
		u := p.users[user]
		if u == nil {
			u = &userSums{}
			p.users[user] = u
		}
		u.up += credUp
		u.down += credDown
	}

	k := pair{user, torrent}
	s := p.pairs[k]
	if s == nil {
		s = &pairSums{first: t}
		p.pairs[k] = s
	}
	s.credUp += credUp
	s.credDown += credDown
	s.rawUp += rawUp
	s.rawDown += rawDown
	s.seedtime += int64(a.GetSeedtimeSeconds())
	if t.Before(s.first) {
		s.first = t
	}
	if !t.Before(s.last) {
		s.last, s.agent, s.seeder, s.active = t, a.GetUserAgent(), seeder, !stopped
		s.clientUp, s.clientDown = a.GetUploaded(), a.GetDownloaded()
	}

	if t.After(p.newest) {
		p.newest = t
	}
	tr := p.torrent(torrent)
	tr.balance += rawUp - rawDown
	if t.After(tr.last) {
		tr.last = t
	}

	if a.GetSnatch() {
		tr.snatches++
		if s.completed.IsZero() || t.Before(s.completed) {
			s.completed = t
		}
		p.snatches = append(p.snatches, snatch{user: user, torrent: torrent, at: t, ip: a.GetIp()})
	}
	if usedToken(a.GetPromotion().GetName()) {
		tok := p.tokens[k]
		if tok == nil {
			tok = &tokenUse{at: t}
			p.tokens[k] = tok
		}
		tok.down += rawDown
		if a.GetSnatch() {
			p.expiries[k] = t
		}
	}

	pk := peerKey{torrent: torrent, user: user}
	copy(pk.peer[:], a.GetPeerId())
	ps := p.peers[pk]
	if ps == nil {
		ps = &peerState{first: t}
		p.peers[pk] = ps
	}
	ps.announces++
	ps.timespent += int64(a.GetSecondsSincePrevious())
	if t.Before(ps.first) {
		ps.first = t
	}
	if !t.Before(ps.last) {
		ps.last, ps.ip, ps.port, ps.agent = t, a.GetIp(), a.GetPort(), a.GetUserAgent()
		ps.up, ps.down, ps.left, ps.corrupt = a.GetUploaded(), a.GetDownloaded(), a.GetLeft(), a.GetCorrupt()
		ps.active, ps.seeder = !stopped, seeder
		ps.upspeed, ps.downspeed = 0, 0
		if d := int64(a.GetSecondsSincePrevious()); d > 0 {
			ps.upspeed, ps.downspeed = rawUp/d, rawDown/d
		}
	}
}

// drop removes what the plan would write for site members and torrents
// that have no row in the site (the site deleted them; their rows would
// trip the site's foreign keys).
func (p *plan) drop(users, torrents map[int64]bool) {
	if len(users) == 0 && len(torrents) == 0 {
		return
	}
	gone := func(k pair) bool { return users[k.user] || torrents[k.torrent] }
	for u := range users {
		delete(p.users, u)
	}
	for t := range torrents {
		delete(p.torrents, t)
	}
	for k := range p.pairs {
		if gone(k) {
			delete(p.pairs, k)
		}
	}
	for k := range p.tokens {
		if gone(k) {
			delete(p.tokens, k)
		}
	}
	for k := range p.expiries {
		if gone(k) {
			delete(p.expiries, k)
		}
	}
	for k := range p.peers {
		if gone(pair{k.user, k.torrent}) {
			delete(p.peers, k)
		}
	}
	kept := p.snatches[:0]
	for _, s := range p.snatches {
		if !gone(pair{s.user, s.torrent}) {
			kept = append(kept, s)
		}
	}
	p.snatches = kept
}

// prior is a peer's row in the site before the batch.
type prior struct{ active, seeder bool }

// swarm turns each touched peer's change (from its row before the batch to
// its state after) into per-torrent seeder and leecher deltas.
func (p *plan) swarm(before map[peerKey]prior) {
	for k, ps := range p.peers {
		tr := p.torrents[k.torrent]
		if old, ok := before[k]; ok && old.active {
			if old.seeder {
				tr.seeders--
			} else {
				tr.leechers--
			}
		}
		if ps.active {
			if ps.seeder {
				tr.seeders++
			} else {
				tr.leechers++
			}
		}
	}
}

// Sorted keys: every statement writes rows in primary-key order, so
// concurrent batches of different partitions lock in the same order.

func sortedUsers(m map[int64]*userSums) []int64 { return sortedInts(m) }

func sortedTorrents(m map[int64]*torrentSums) []int64 { return sortedInts(m) }

func sortedInts[V any](m map[int64]V) []int64 {
	out := make([]int64, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func sortedPairs[V any](m map[pair]V) []pair {
	out := make([]pair, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].user != out[j].user {
			return out[i].user < out[j].user
		}
		return out[i].torrent < out[j].torrent
	})
	return out
}

// sortedPeers orders peers by (torrent, user, peer id), Gazelle's primary
// key; byUser orders them by (user, torrent, peer id), UNIT3D's.
func sortedPeers(m map[peerKey]*peerState, byUser bool) []peerKey {
	out := make([]peerKey, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		x1, y1, x2, y2 := a.torrent, a.user, b.torrent, b.user
		if byUser {
			x1, y1, x2, y2 = a.user, a.torrent, b.user, b.torrent
		}
		if x1 != x2 {
			return x1 < x2
		}
		if y1 != y2 {
			return y1 < y2
		}
		return bytes.Compare(a.peer[:], b.peer[:]) < 0
	})
	return out
}

// i64 is a uint64 counter as a signed column value (saturating).
func i64(v uint64) int64 {
	if v > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(v)
}

// ipText is an IPv4 address as Gazelle stores it (varchar(15)); IPv6 and
// malformed addresses are stored as "" (Ocelot keeps only IPv4 too).
func ipText(ip []byte) string {
	if len(ip) == 4 {
		return netip.AddrFrom4([4]byte(ip)).String()
	}
	if len(ip) == 16 {
		if a := netip.AddrFrom16([16]byte(ip)); a.Is4In6() {
			return a.Unmap().String()
		}
	}
	return ""
}

// truncate cuts s to at most n runes (the sites' agent columns).
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}
