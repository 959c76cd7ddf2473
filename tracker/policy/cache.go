// Package policy owns the tracker's in-memory copy of the rules it enforces:
// passkeys to members, info_hashes to torrents, client rules, site-wide
// promotions and declared seedbox ranges. A Cache answers the core's lookups
// without I/O; a Syncer fills it from Postgres (full load at start,
// LISTEN/NOTIFY on channel 'ratioguard_policy' for changes, periodic resync
// as a safety net) and leaves it serving as it was when Postgres is down.
package policy

import (
	"hash/maphash"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ratioguard/ratioguard/tracker/core"
	"github.com/ratioguard/ratioguard/tracker/internal/hashids"
)

const shards = 64

// Cache implements core.Policy over sharded maps and atomically swapped
// snapshots. Values handed out are immutable; updates replace them.
type Cache struct {
	seed     maphash.Seed
	users    [shards]userShard
	torrents [shards]torrentShard

	// byID remembers each member's passkey and each torrent's info_hash so
	// that an update by id can find the old entry.
	idMu        sync.Mutex
	userKeys    map[uint64]string
	torrentKeys map[uint64][20]byte
	// siteUsers maps members' site ids to their ids (NexusPHP's authkeys
	// name members by site id); userSites is the reverse.
	siteUsers, userSites map[uint64]uint64

	clients   atomic.Pointer[core.ClientRules]
	promos    atomic.Pointer[[]SitePromotion]
	seedboxes atomic.Pointer[map[uint64][]SeedboxRange]
	// secrets are NexusPHP's report secrets: member id → site torrent id
	// (0: all) → the secret's Hashids.
	secrets atomic.Pointer[map[uint64]map[uint64]*hashids.Hashids]
}

type userShard struct {
	mu    sync.RWMutex
	byKey map[string]*core.User
}

type torrentShard struct {
	mu     sync.RWMutex
	byHash map[[20]byte]*core.Torrent
}

// SitePromotion is a site-wide promotion window.
type SitePromotion struct {
	core.Promotion
	Starts, Ends time.Time
}

// SeedboxRange is a range a member declared as a seedbox.
type SeedboxRange struct {
	Prefix       netip.Prefix
	CountsForCap bool
}

// NewCache returns an empty cache that allows every client.
func NewCache() *Cache {
	c := &Cache{seed: maphash.MakeSeed(), userKeys: map[uint64]string{}, torrentKeys: map[uint64][20]byte{},
		siteUsers: map[uint64]uint64{}, userSites: map[uint64]uint64{}}
	for i := range c.users {
		c.users[i].byKey = map[string]*core.User{}
	}
	for i := range c.torrents {
		c.torrents[i].byHash = map[[20]byte]*core.Torrent{}
	}
	empty, _ := core.CompileClientRules(nil)
	c.clients.Store(empty)
	c.promos.Store(&[]SitePromotion{})
	c.seedboxes.Store(&map[uint64][]SeedboxRange{})
	c.secrets.Store(&map[uint64]map[uint64]*hashids.Hashids{})
	return c
}

func (c *Cache) userShard(passkey string) *userShard {
	return &c.users[maphash.String(c.seed, passkey)%shards]
}

func (c *Cache) torrentShard(ih [20]byte) *torrentShard {
	return &c.torrents[uint64(ih[0])%shards]
}

// UserByPasskey implements core.Policy.
func (c *Cache) UserByPasskey(passkey string) *core.User {
	sh := c.userShard(passkey)
	sh.mu.RLock()
	u := sh.byKey[passkey]
	sh.mu.RUnlock()
	return u
}

// TorrentByInfoHash implements core.Policy.
func (c *Cache) TorrentByInfoHash(ih [20]byte) *core.Torrent {
	sh := c.torrentShard(ih)
	sh.mu.RLock()
	t := sh.byHash[ih]
	sh.mu.RUnlock()
	return t
}

// Clients implements core.Policy.
func (c *Cache) Clients() *core.ClientRules { return c.clients.Load() }

// SitePromotion implements core.Policy: the most generous window in force.
func (c *Cache) SitePromotion(t time.Time) *core.Promotion {
	var best *core.Promotion
	ps := *c.promos.Load()
	for i := range ps {
		p := &ps[i]
		if t.Before(p.Starts) || !t.Before(p.Ends) {
			continue
		}
		if best == nil || p.DownloadPercent < best.DownloadPercent ||
			(p.DownloadPercent == best.DownloadPercent && p.UploadPercent > best.UploadPercent) {
			best = &p.Promotion
		}
	}
	return best
}

// Seedbox implements core.Policy.
func (c *Cache) Seedbox(userID uint64, addr netip.Addr) (declared, counts bool) {
	for _, r := range (*c.seedboxes.Load())[userID] {
		if r.Prefix.Contains(addr) {
			declared = true
			counts = counts || r.CountsForCap
		}
	}
	return declared, counts
}

// PutUser adds or replaces a member (a changed passkey drops the old one,
// unless another member holds it by now: two members that traded passkeys
// in one transaction arrive one notification at a time).
func (c *Cache) PutUser(passkey string, u *core.User) {
	c.idMu.Lock()
	defer c.idMu.Unlock()
	if old, ok := c.userKeys[u.ID]; ok && old != passkey {
		c.dropUserKey(old, u.ID)
	}
	c.userKeys[u.ID] = passkey
	c.setSiteID(u)
	sh := c.userShard(passkey)
	sh.mu.Lock()
	sh.byKey[passkey] = u
	sh.mu.Unlock()
}

// DeleteUser removes a member.
func (c *Cache) DeleteUser(id uint64) {
	c.idMu.Lock()
	defer c.idMu.Unlock()
	if old, ok := c.userKeys[id]; ok {
		c.dropUserKey(old, id)
		delete(c.userKeys, id)
	}
	c.setSiteID(&core.User{ID: id})
}

// setSiteID maps u's site id to u (none: forgets u's mapping). Call with
// idMu held.
func (c *Cache) setSiteID(u *core.User) {
	if old, ok := c.userSites[u.ID]; ok && old != u.SiteID {
		if c.siteUsers[old] == u.ID {
			delete(c.siteUsers, old)
		}
		delete(c.userSites, u.ID)
	}
	if u.SiteID != 0 {
		c.siteUsers[u.SiteID], c.userSites[u.ID] = u.ID, u.SiteID
	}
}

// dropUserKey forgets passkey if member id still holds it.
func (c *Cache) dropUserKey(passkey string, id uint64) {
	sh := c.userShard(passkey)
	sh.mu.Lock()
	if u := sh.byKey[passkey]; u != nil && u.ID == id {
		delete(sh.byKey, passkey)
	}
	sh.mu.Unlock()
}

// PutTorrent adds or replaces a torrent.
func (c *Cache) PutTorrent(ih [20]byte, t *core.Torrent) {
	c.idMu.Lock()
	defer c.idMu.Unlock()
	if old, ok := c.torrentKeys[t.ID]; ok && old != ih {
		c.dropTorrentKey(old)
	}
	c.torrentKeys[t.ID] = ih
	sh := c.torrentShard(ih)
	sh.mu.Lock()
	sh.byHash[ih] = t
	sh.mu.Unlock()
}

// DeleteTorrent removes a torrent (a deleted-with-reason torrent stays, marked Deleted).
func (c *Cache) DeleteTorrent(id uint64) {
	c.idMu.Lock()
	defer c.idMu.Unlock()
	if old, ok := c.torrentKeys[id]; ok {
		c.dropTorrentKey(old)
		delete(c.torrentKeys, id)
	}
}

func (c *Cache) dropTorrentKey(ih [20]byte) {
	sh := c.torrentShard(ih)
	sh.mu.Lock()
	delete(sh.byHash, ih)
	sh.mu.Unlock()
}

// SetClientRules compiles and installs a rule set.
func (c *Cache) SetClientRules(rules []core.ClientRule) error {
	cr, err := core.CompileClientRules(rules)
	if err != nil {
		return err
	}
	c.clients.Store(cr)
	return nil
}

// SetSitePromotions installs the site-wide windows.
func (c *Cache) SetSitePromotions(p []SitePromotion) {
	p = append([]SitePromotion(nil), p...)
	c.promos.Store(&p)
}

// SetSeedboxes installs the declared seedbox ranges per member.
func (c *Cache) SetSeedboxes(m map[uint64][]SeedboxRange) {
	c.seedboxes.Store(&m)
}

// Counts returns how many members and torrents are cached.
func (c *Cache) Counts() (users, torrents int) {
	c.idMu.Lock()
	defer c.idMu.Unlock()
	return len(c.userKeys), len(c.torrentKeys)
}

// replaceAll swaps in a complete set of members and torrents (a resync):
// entries absent from the new set are dropped.
func (c *Cache) replaceAll(users map[string]*core.User, torrents map[[20]byte]*core.Torrent) {
	var ub [shards]map[string]*core.User
	for i := range ub {
		ub[i] = map[string]*core.User{}
	}
	userKeys := make(map[uint64]string, len(users))
	siteUsers, userSites := map[uint64]uint64{}, map[uint64]uint64{}
	for k, u := range users {
		ub[maphash.String(c.seed, k)%shards][k] = u
		userKeys[u.ID] = k
		if u.SiteID != 0 {
			siteUsers[u.SiteID], userSites[u.ID] = u.ID, u.SiteID
		}
	}
	var tb [shards]map[[20]byte]*core.Torrent
	for i := range tb {
		tb[i] = map[[20]byte]*core.Torrent{}
	}
	torrentKeys := make(map[uint64][20]byte, len(torrents))
	for ih, t := range torrents {
		tb[uint64(ih[0])%shards][ih] = t
		torrentKeys[t.ID] = ih
	}
	c.idMu.Lock()
	defer c.idMu.Unlock()
	for i := range c.users {
		c.users[i].mu.Lock()
		c.users[i].byKey = ub[i]
		c.users[i].mu.Unlock()
		c.torrents[i].mu.Lock()
		c.torrents[i].byHash = tb[i]
		c.torrents[i].mu.Unlock()
	}
	c.userKeys, c.torrentKeys, c.siteUsers, c.userSites = userKeys, torrentKeys, siteUsers, userSites
}
