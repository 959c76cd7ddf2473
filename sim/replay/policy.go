package replay

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/ratioguard/ratioguard/sim/population"
	"github.com/ratioguard/ratioguard/tracker/core"
)

// DefaultClientRules mirror the client rules that
// schemas/postgres/migrations/00001_init.sql installs.
var DefaultClientRules = []core.ClientRule{
	{Prefix: "-qB", MinVersion: "4.0.0", UAFamily: "qbittorrent", Allowed: true},
	{Prefix: "-TR", MinVersion: "2.90", UAFamily: "transmission", Allowed: true},
	{Prefix: "-DE", MinVersion: "1.3.0", UAFamily: "deluge", Allowed: true},
	{Prefix: "-lt", MinVersion: "0.13.0", UAFamily: "rtorrent", Allowed: true},
	{Prefix: "-LT", MinVersion: "1.2.0", UAFamily: "libtorrent", Allowed: true},
	{Prefix: "A2-", MinVersion: "1.30.0", UAFamily: "aria2", Allowed: true},
	{Prefix: "-UT", MinVersion: "3.5.5", UAFamily: "utorrent", Allowed: true},
	{Prefix: "-UT", MaxVersion: "3.5.4", UAFamily: "utorrent", Reason: "uTorrent older than 3.5.5 is not allowed, please upgrade"},
	{Prefix: "-BC", Reason: "BitComet is not allowed"},
	{Prefix: "-XL", Reason: "Xunlei/Thunder is not allowed"},
	{Prefix: "-SD", Reason: "Xunlei/Thunder is not allowed"},
	{Prefix: "-RM", Reason: "RatioMaster is a known ratio cheating tool"},
	{Prefix: "-GR", Reason: "GreedyTorrent is a known ratio cheating tool"},
}

// Policy is the tracker policy of a simulated site, in memory: every member
// enabled, every torrent registered without promotion, the default client
// rules and the declared seedbox ranges.
type Policy struct {
	users    map[string]*core.User
	torrents map[[20]byte]*core.Torrent
	clients  *core.ClientRules
	seedbox  map[uint64][]netip.Prefix
}

// NewPolicy builds the policy of a population (ids as the population holds them).
func NewPolicy(p *population.Population) (*Policy, error) {
	cr, err := core.CompileClientRules(DefaultClientRules)
	if err != nil {
		return nil, fmt.Errorf("compile client rules: %w", err)
	}
	pol := &Policy{
		users:    make(map[string]*core.User, len(p.Members)),
		torrents: make(map[[20]byte]*core.Torrent, len(p.Torrents)),
		clients:  cr,
		seedbox:  map[uint64][]netip.Prefix{},
	}
	for _, m := range p.Members {
		pol.users[m.Passkey] = &core.User{ID: m.ID, Enabled: true, CanLeech: true}
	}
	for _, t := range p.Torrents {
		pol.torrents[t.InfoHash] = &core.Torrent{ID: t.ID, Size: uint64(t.Size), Promotion: core.NoPromotion}
	}
	for _, r := range p.SeedboxRanges {
		pol.seedbox[r.Member.ID] = append(pol.seedbox[r.Member.ID], r.Prefix)
	}
	return pol, nil
}

// UserByPasskey implements core.Policy.
func (p *Policy) UserByPasskey(passkey string) *core.User { return p.users[passkey] }

// TorrentByInfoHash implements core.Policy.
func (p *Policy) TorrentByInfoHash(h [20]byte) *core.Torrent { return p.torrents[h] }

// Clients implements core.Policy.
func (p *Policy) Clients() *core.ClientRules { return p.clients }

// SitePromotion implements core.Policy: no site-wide promotion.
func (p *Policy) SitePromotion(time.Time) *core.Promotion { return nil }

// Seedbox implements core.Policy.
func (p *Policy) Seedbox(userID uint64, addr netip.Addr) (declared, counts bool) {
	for _, pr := range p.seedbox[userID] {
		if pr.Contains(addr) {
			return true, false
		}
	}
	return false, false
}
