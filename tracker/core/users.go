package core

import (
	"net/netip"
	"sync"
)

// location is one place a member announces from: an IPv4 address and/or an
// IPv6 /64 (a dual-stack client is one location).
type location struct {
	v4     [4]byte
	v6     [8]byte // the /64 prefix
	has4   bool
	has6   bool
	exempt bool // inside a declared seedbox range that does not count
	seen   uint32
}

func (l *location) matches(a netip.Addr) bool {
	if a.Is4() {
		return l.has4 && l.v4 == a.As4()
	}
	b := a.As16()
	return l.has6 && [8]byte(b[:8]) == l.v6
}

func (l *location) add(a netip.Addr) {
	if a.Is4() {
		l.v4, l.has4 = a.As4(), true
		return
	}
	b := a.As16()
	l.v6, l.has6 = [8]byte(b[:8]), true
}

type userState struct {
	locs []location
}

type userShard struct {
	mu    sync.Mutex
	users map[uint64]*userState
	_     [48]byte
}

// userStore tracks where each member is active, for the IP cap.
type userStore struct {
	shards []userShard
}

func newUserStore(n int) *userStore {
	us := &userStore{shards: make([]userShard, n)}
	for i := range us.shards {
		us.shards[i].users = map[uint64]*userState{}
	}
	return us
}

// touch records that user announces from addr (linked: the session's address
// in the other family, if any) and reports whether the location is allowed.
// Locations not seen since cutoff no longer count.
func (us *userStore) touch(pol Policy, user uint64, addr, linked netip.Addr, now, cutoff uint32, maxIPs int) bool {
	sh := &us.shards[user%uint64(len(us.shards))]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	st := sh.users[user]
	if st == nil {
		st = &userState{}
		sh.users[user] = st
	}
	active := 0
	for i := range st.locs {
		l := &st.locs[i]
		if l.seen < cutoff {
			continue
		}
		if l.matches(addr) {
			l.seen = now
			return true
		}
		if !l.exempt {
			active++
		}
	}
	if linked.IsValid() {
		for i := range st.locs {
			if l := &st.locs[i]; l.seen >= cutoff && l.matches(linked) {
				l.add(addr)
				l.seen = now
				return true
			}
		}
	}
	declared, counts := pol.Seedbox(user, addr)
	exempt := declared && !counts
	if !exempt && active >= maxIPs {
		return false
	}
	// Reuse a stale slot before growing.
	nl := location{seen: now, exempt: exempt}
	nl.add(addr)
	for i := range st.locs {
		if st.locs[i].seen < cutoff {
			st.locs[i] = nl
			return true
		}
	}
	st.locs = append(st.locs, nl)
	return true
}

// expire forgets members with no location seen since cutoff.
func (us *userStore) expire(cutoff uint32) {
	for i := range us.shards {
		sh := &us.shards[i]
		sh.mu.Lock()
		for id, st := range sh.users {
			live := st.locs[:0]
			for _, l := range st.locs {
				if l.seen >= cutoff {
					live = append(live, l)
				}
			}
			st.locs = live
			if len(live) == 0 {
				delete(sh.users, id)
			}
		}
		sh.mu.Unlock()
	}
}

func (us *userStore) count() int {
	n := 0
	for i := range us.shards {
		sh := &us.shards[i]
		sh.mu.Lock()
		n += len(sh.users)
		sh.mu.Unlock()
	}
	return n
}
