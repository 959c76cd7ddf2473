package core

import (
	"math"
	"net/netip"
	"time"

	"github.com/ratioguard/ratioguard/schemas/events"
)

// Learn applies to the in-memory state what a tracker did when it answered
// the announce of ev: the event of this process before a restart (replayed
// from Kafka and the spool) or of another instance (followed live). Nothing
// is published and nothing is refused; the state after Learn is what the
// producing tracker had after its Announce:
//
//   - an accepted announce moves its session's baseline to the counters it
//     reported (a dual-stack duplicate keeps the higher one), records its
//     address, seeder flag and snatch, and its member's location (counted
//     towards the cap whatever the cap: the producer allowed it); a stopped
//     one removes the session;
//   - a refused announce with an unknown passkey counts against its address
//     in the bad-passkey limiter.
//
// An event older than its session's last announce is stale (a copy
// delivered late) and changes nothing. Learn is safe for concurrent use
// with Announce; events of one session must be learnt in their order.
func (c *Core) Learn(ev *events.Announce) {
	t := c.secs(time.Unix(0, ev.GetTimeUnixNano()))
	addr, ok := netip.AddrFromSlice(ev.GetIp())
	switch ev.GetResult() {
	case events.Result_RESULT_REFUSED:
		if ev.GetRefusal() == events.Refusal_REFUSAL_UNKNOWN_PASSKEY && ok {
			c.limiter.bad(addr, t)
		}
		return
	case events.Result_RESULT_ACCEPTED:
	default:
		return
	}
	if !ok || len(ev.GetPeerId()) != 20 || ev.GetUserId() == 0 || ev.GetTorrentId() == 0 {
		return
	}
	r := Request{PeerID: ev.GetPeerId(), Addr: addr, Port: uint16(ev.GetPort()), Uploaded: ev.GetUploaded(),
		Downloaded: ev.GetDownloaded(), Left: ev.GetLeft(), Event: ev.GetEvent()}
	c.learn(&r, ev.GetUserId(), ev.GetTorrentId(), ev.GetSnatch(), t)
}

func (c *Core) learn(r *Request, user, torrent uint64, snatch bool, t uint32) {
	pid := (*[20]byte)(r.PeerID)
	h := sessionHash(c.swarms.seed, user, pid)
	addr, is4 := storedAddr(r.Addr)
	stopped := r.Event == events.Event_EVENT_STOPPED
	cutoff := c.cutoff(t)

	sh := c.swarms.shard(torrent)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	s := sh.swarms[torrent]
	if s == nil {
		if stopped {
			return
		}
		s = newSwarm(c.swarms.leeching)
		sh.swarms[torrent] = s
	}
	defer c.dropIfEmpty(sh, torrent, s)
	pos, found := s.find(h, user, pid)
	if found && s.lastSeen(h, pos) > t {
		return // stale
	}
	if !stopped {
		var linked netip.Addr
		if found {
			linked = s.linked(h, pos, is4)
		}
		c.users.touch(c.policy, user, r.Addr, linked, t, cutoff, math.MaxInt)
	}
	if !found {
		if stopped {
			return
		}
		np := newPeer(r, user, addr, is4, t)
		if snatch {
			np.flags |= flagSnatched
			sh.snatches[torrent]++
		}
		s.insert(h, np, c.swarms.seed)
		return
	}
	var scratch events.Announce
	snatched := c.account(s, h, pos, r, &scratch, is4, addr, t)
	if p := s.at(pos); snatch && p.flags&flagSnatched == 0 {
		p.flags |= flagSnatched
		snatched = true
	}
	if snatched {
		sh.snatches[torrent]++
	}
	if stopped {
		s.remove(h, pos, c.swarms.seed)
	} else if seeder := r.Left == 0; (s.at(pos).flags&flagSeeder != 0) != seeder {
		s.move(h, pos, c.swarms.seed, seeder)
	}
}

// lastSeen is the time of the session's last announce on either address.
func (s *swarm) lastSeen(h uint64, pos int32) uint32 {
	p := s.at(pos)
	last := p.seen
	if p.flags&flagHasAlt != 0 {
		last = max(last, s.alt[h].seen)
	}
	return last
}

// AddSnatches raises each torrent's snatch count (scrape's downloaded) to
// at least the given one: the ledger's count at start, which the snapshot
// and the replayed events may not all hold.
func (c *Core) AddSnatches(counts map[uint64]uint32) {
	for id, n := range counts {
		sh := c.swarms.shard(id)
		sh.mu.Lock()
		if sh.snatches[id] < n {
			sh.snatches[id] = n
		}
		sh.mu.Unlock()
	}
}
