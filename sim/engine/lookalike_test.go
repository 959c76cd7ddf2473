package engine

import (
	"net/netip"
	"testing"
	"time"

	"github.com/ratioguard/ratioguard/sim/clients"
	"github.com/ratioguard/ratioguard/sim/population"
	"github.com/ratioguard/ratioguard/sim/spec"
)

// The honest look-alike traits are visible in the traffic the way a detector
// would see them.
func TestLookalikesShowInTraffic(t *testing.T) {
	s := spec.Default()
	s.Duration = 72 * time.Hour
	s.Lookalikes.Restarts = 0.1
	e, p, all := run(t, s, Options{})

	kinds := map[uint64]map[population.Kind]bool{}
	for _, m := range p.Members {
		kinds[m.ID] = map[population.Kind]bool{}
		for _, k := range m.Lookalikes {
			kinds[m.ID][k] = true
		}
	}
	usersByV4 := map[netip.Addr]map[uint64]bool{}
	famBySession := map[[20]byte]map[bool]bool{}
	v6PerUser := map[uint64]map[netip.Addr]bool{}
	var counterResets int
	type sk struct {
		u  uint64
		t  uint64
		id [20]byte
	}
	lastUp := map[sk]uint64{}
	for _, a := range all {
		if a.IP.Is4() {
			if usersByV4[a.IP] == nil {
				usersByV4[a.IP] = map[uint64]bool{}
			}
			usersByV4[a.IP][a.UserID] = true
		} else if kinds[a.UserID][population.IPv6Privacy] {
			if v6PerUser[a.UserID] == nil {
				v6PerUser[a.UserID] = map[netip.Addr]bool{}
			}
			v6PerUser[a.UserID][a.IP] = true
		}
		if kinds[a.UserID][population.DualStack] {
			if famBySession[a.PeerID] == nil {
				famBySession[a.PeerID] = map[bool]bool{}
			}
			famBySession[a.PeerID][a.IP.Is4()] = true
		}
		k := sk{a.UserID, a.TorrentID, a.PeerID}
		if prev, ok := lastUp[k]; ok && a.Uploaded < prev && a.Event == clients.EventStarted {
			counterResets++
		}
		lastUp[k] = a.Uploaded
	}
	shared := map[population.Kind]bool{}
	for _, users := range usersByV4 {
		if len(users) < 2 {
			continue
		}
		for u := range users {
			for _, k := range []population.Kind{population.NATHousehold, population.CGNAT} {
				if kinds[u][k] {
					shared[k] = true
				}
			}
		}
	}
	if !shared[population.NATHousehold] || !shared[population.CGNAT] {
		t.Errorf("no IPv4 address shared by NAT household or CGNAT members: %v", shared)
	}
	dual := 0
	for _, fams := range famBySession {
		if fams[true] && fams[false] {
			dual++
		}
	}
	if dual == 0 {
		t.Error("no dual-stack peer_id announced over both IPv4 and IPv6")
	}
	rotating := 0
	for u, addrs := range v6PerUser {
		var prefix netip.Prefix
		for a := range addrs {
			p := netip.PrefixFrom(a, 64).Masked()
			if prefix.IsValid() && p != prefix {
				t.Fatalf("user %d's privacy addresses leave their /64: %s vs %s", u, p, prefix)
			}
			prefix = p
		}
		if len(addrs) > 1 {
			rotating++
		}
	}
	if rotating == 0 {
		t.Error("no IPv6 privacy address rotated")
	}
	if counterResets == 0 {
		t.Error("no restart kept its peer_id (a counter reset to the tracker)")
	}
	if e.Stats().LostStopped == 0 || e.Stats().Restarts == 0 {
		t.Errorf("no lost stopped or restarts: %+v", e.Stats())
	}
	t.Logf("dual-stack sessions %d, rotating v6 members %d, counter resets %d", dual, rotating, counterResets)
}
