package core

import "sync"

// leechCounts counts each member's leech sessions over every swarm: the
// download slots a member uses. The swarm methods that add, remove or move
// a session keep it (insert, remove, move), so every path that changes a
// swarm — answering, learning another instance's events, expiry, a
// snapshot's restore — counts alike.
type leechCounts struct {
	shards [64]leechShard
}

type leechShard struct {
	mu sync.Mutex
	n  map[uint64]int32
	_  [40]byte
}

func newLeechCounts() *leechCounts {
	lc := &leechCounts{}
	for i := range lc.shards {
		lc.shards[i].n = map[uint64]int32{}
	}
	return lc
}

// add changes user's count by d; a count that reaches 0 is forgotten.
// Safe on a nil receiver (a swarm outside a store).
func (lc *leechCounts) add(user uint64, d int32) {
	if lc == nil {
		return
	}
	sh := &lc.shards[user%uint64(len(lc.shards))]
	sh.mu.Lock()
	if v := sh.n[user] + d; v > 0 {
		sh.n[user] = v
	} else {
		delete(sh.n, user)
	}
	sh.mu.Unlock()
}

// get returns user's leech sessions.
func (lc *leechCounts) get(user uint64) int {
	sh := &lc.shards[user%uint64(len(lc.shards))]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return int(sh.n[user])
}

// Leeching returns how many leech sessions the member has on every torrent
// (the download slots in use), as this instance knows them: its own
// answers and, with tracker/state's follower, the other instances' events.
func (c *Core) Leeching(user uint64) int { return c.swarms.leeching.get(user) }
