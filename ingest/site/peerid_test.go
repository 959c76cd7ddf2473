package site

import (
	"testing"
	"time"

	"github.com/ratioguard/ratioguard/schemas/events"
)

// A peer id is bytes, not text (aria2's end in random bytes that are not
// UTF-8): the peer's row is found again by the next batch, so a peer that
// starts and then stops leaves its torrent with no leecher, on both sites.
func TestPeerIDsAreBytes(t *testing.T) {
	const peer = "A2-1-36-0-\xc0\xc9\xd7-e\xe9g\xc9\xb8T"
	for _, s := range []string{SiteGazelle, SiteUNIT3D} {
		t.Run(s, func(t *testing.T) {
			e := newEnv(t, s, 1, 1, nil, nil)
			t0 := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
			b1 := batch(-1, announce{seq: 1, user: 1, torrent: 1, peer: peer, event: events.Event_EVENT_STARTED, left: 1000, credDown: -1, at: t0})
			store(t, e.w, b1)
			b2 := batch(b1.Next, announce{seq: 2, user: 1, torrent: 1, peer: peer, event: events.Event_EVENT_STOPPED, rawDown: 10,
				downloaded: 10, left: 990, credDown: -1, since: 60, at: t0.Add(time.Minute)})
			store(t, e.w, b2)
			swarm, peers := "SELECT Seeders, Leechers FROM torrents_leech_stats WHERE TorrentID = ?", "SELECT COUNT(*) FROM xbt_files_users WHERE active = 1"
			if s == SiteUNIT3D {
				swarm, peers = "SELECT seeders, leechers FROM torrents WHERE id = ?", "SELECT COUNT(*) FROM peers WHERE active = 1"
			}
			var seeders, leechers int64
			e.row(t, swarm, []any{siteTorrent(1)}, &seeders, &leechers)
			if seeders != 0 || leechers != 0 {
				t.Errorf("seeders %d leechers %d after the peer stopped; want 0 0", seeders, leechers)
			}
			if n := e.count(t, peers); n != 0 {
				t.Errorf("%d active peers after the peer stopped; want 0", n)
			}
		})
	}
}
