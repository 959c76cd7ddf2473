package core

import (
	"net/netip"
	"time"
)

// PeerInfo is one peer as a site's control protocol shows it (UNIT3D's
// GET torrents/{id}, Ocelot's user report).
type PeerInfo struct {
	UserID     uint64
	PeerID     [20]byte
	Addr       netip.Addr
	Port       uint16
	Seeder     bool
	Uploaded   uint64 // counters at the last announce
	Downloaded uint64
	LastSeen   time.Time
}

// TorrentPeers returns the live peers of a torrent (seeders first), for
// the control surface; it holds the torrent's shard lock while copying.
func (c *Core) TorrentPeers(torrentID uint64) []PeerInfo {
	sh := c.swarms.shard(torrentID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	s := sh.swarms[torrentID]
	if s == nil {
		return nil
	}
	out := make([]PeerInfo, 0, len(s.seeders)+len(s.leechers))
	for _, list := range [][]peer{s.seeders, s.leechers} {
		for i := range list {
			p := &list[i]
			out = append(out, PeerInfo{
				UserID: p.user, PeerID: p.id, Addr: addrOf(p.addr, p.flags&flagIs4 != 0), Port: p.port,
				Seeder: p.flags&flagSeeder != 0, Uploaded: p.up, Downloaded: p.down,
				LastSeen: c.epoch.Add(time.Duration(p.seen) * time.Second),
			})
		}
	}
	return out
}

// UserPeers counts the member's live sessions that seed and that leech. It
// visits every swarm (an admin request, not the announce path).
func (c *Core) UserPeers(userID uint64) (seeding, leeching int) {
	for i := range c.swarms.shards {
		sh := &c.swarms.shards[i]
		sh.mu.Lock()
		for _, s := range sh.swarms {
			if s.perUser != nil && s.perUser[userID] == 0 {
				continue
			}
			for j := range s.seeders {
				if s.seeders[j].user == userID {
					seeding++
				}
			}
			for j := range s.leechers {
				if s.leechers[j].user == userID {
					leeching++
				}
			}
		}
		sh.mu.Unlock()
	}
	return seeding, leeching
}

// Announces counts the announces answered (accepted or refused) since start.
func (c *Core) Announces() uint64 { return c.seq.Load() }
