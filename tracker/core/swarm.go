package core

import (
	"encoding/binary"
	"hash/maphash"
	"sync"
)

// peer is one accounting session (user, torrent, peer_id) and its primary
// address. 72 bytes; a dual-stack session keeps its second address in
// swarm.alt. Times are seconds since the store's epoch (0: never).
type peer struct {
	id       [20]byte
	addr     [16]byte
	user     uint64
	up, down uint64 // counters at the previous announce (the baseline)
	seen     uint32 // last announce on the primary address
	port     uint16
	flags    uint8
}

const (
	flagIs4       = 1 << iota // primary address is IPv4
	flagSeeder                // left was 0 at the previous announce
	flagSnatched              // this session already completed
	flagUnindexed             // hash collision: found by scanning
	flagHasAlt                // a second address (other family) in swarm.alt
	flagLastAlt               // the previous announce came on the alt address
)

// altAddr is the other-family address of a dual-stack session.
type altAddr struct {
	addr [16]byte
	seen uint32
	port uint16
	is4  bool
}

// swarm is the peers of one torrent, seeders and leechers apart so a seeder
// is handed leechers without scanning seeders.
type swarm struct {
	seeders  []peer
	leechers []peer
	// index maps a session hash to its position: i >= 0 is leechers[i],
	// i < 0 is seeders[-i-1]. nil while the swarm is small: find scans the
	// lists, which the announce's peer selection reads anyway, instead of
	// touching a map's memory as well (cache and TLB misses were most of
	// the lookup's cost under load).
	index      map[uint64]int32
	perUser    map[uint64]uint8 // sessions per member; nil while the swarm is small (scan instead)
	alt        map[uint64]altAddr
	collisions int
	// leeching is the store's count of leech sessions per member (nil:
	// not counted), kept by insert, remove and move.
	leeching *leechCounts
}

func newSwarm(leeching *leechCounts) *swarm {
	return &swarm{leeching: leeching}
}

// perUserThreshold is the swarm size above which sessions per member are
// counted in a map rather than by scanning.
const perUserThreshold = 48

// indexThreshold is the swarm size above which sessions are found through
// swarm.index rather than by scanning. Once made, the index stays.
const indexThreshold = 48

// userSessions counts the member's sessions in the swarm.
func (s *swarm) userSessions(user uint64) int {
	if s.perUser != nil {
		return int(s.perUser[user])
	}
	n := 0
	for i := range s.seeders {
		if s.seeders[i].user == user {
			n++
		}
	}
	for i := range s.leechers {
		if s.leechers[i].user == user {
			n++
		}
	}
	return n
}

func (s *swarm) at(pos int32) *peer {
	if pos < 0 {
		return &s.seeders[-pos-1]
	}
	return &s.leechers[pos]
}

func sessionHash(seed maphash.Seed, user uint64, id *[20]byte) uint64 {
	var b [28]byte
	binary.LittleEndian.PutUint64(b[:8], user)
	copy(b[8:], id[:])
	return maphash.Bytes(seed, b[:])
}

// find returns the session's position, or ok=false.
func (s *swarm) find(h, user uint64, id *[20]byte) (int32, bool) {
	if s.index != nil {
		if pos, ok := s.index[h]; ok {
			if p := s.at(pos); p.user == user && p.id == *id {
				return pos, true
			}
		}
		if s.collisions == 0 {
			return 0, false
		}
	}
	for i := range s.leechers {
		if p := &s.leechers[i]; p.user == user && p.id == *id {
			return int32(i), true
		}
	}
	for i := range s.seeders {
		if p := &s.seeders[i]; p.user == user && p.id == *id {
			return int32(-i - 1), true
		}
	}
	return 0, false
}

// insert adds p (h is its hash) and returns its position.
func (s *swarm) insert(h uint64, p peer, seed maphash.Seed) int32 {
	var pos int32
	if s.index != nil {
		if _, taken := s.index[h]; taken {
			p.flags |= flagUnindexed
			s.collisions++
		}
	}
	if p.flags&flagSeeder != 0 {
		s.seeders = append(s.seeders, p)
		pos = int32(-len(s.seeders))
	} else {
		s.leechers = append(s.leechers, p)
		pos = int32(len(s.leechers) - 1)
		s.leeching.add(p.user, 1)
	}
	if s.index != nil {
		if p.flags&flagUnindexed == 0 {
			s.index[h] = pos
		}
	} else if len(s.seeders)+len(s.leechers) > indexThreshold {
		s.makeIndex(seed)
	}
	if s.perUser != nil {
		s.perUser[p.user]++
	} else if len(s.seeders)+len(s.leechers) > perUserThreshold {
		s.perUser = map[uint64]uint8{}
		for i := range s.seeders {
			s.perUser[s.seeders[i].user]++
		}
		for i := range s.leechers {
			s.perUser[s.leechers[i].user]++
		}
	}
	return pos
}

// makeIndex indexes every session; those whose hash is taken are marked
// flagUnindexed (found by scanning).
func (s *swarm) makeIndex(seed maphash.Seed) {
	s.index = make(map[uint64]int32, len(s.seeders)+len(s.leechers))
	add := func(list []peer, pos func(int) int32) {
		for i := range list {
			p := &list[i]
			h := sessionHash(seed, p.user, &p.id)
			if _, taken := s.index[h]; taken {
				p.flags |= flagUnindexed
				s.collisions++
				continue
			}
			s.index[h] = pos(i)
		}
	}
	add(s.leechers, func(i int) int32 { return int32(i) })
	add(s.seeders, func(i int) int32 { return int32(-i - 1) })
}

// remove deletes the session at pos (h is its hash).
func (s *swarm) remove(h uint64, pos int32, seed maphash.Seed) {
	p := s.at(pos)
	if p.flags&flagUnindexed != 0 {
		s.collisions--
	} else if s.index != nil {
		delete(s.index, h)
	}
	if p.flags&flagHasAlt != 0 {
		delete(s.alt, h)
	}
	if pos >= 0 {
		s.leeching.add(p.user, -1)
	}
	if s.perUser != nil {
		if n := s.perUser[p.user]; n <= 1 {
			delete(s.perUser, p.user)
		} else {
			s.perUser[p.user] = n - 1
		}
	}
	s.cut(pos, seed)
}

// cut removes the slot at pos by moving the last peer of its list into it.
func (s *swarm) cut(pos int32, seed maphash.Seed) {
	list, i := &s.leechers, int(pos)
	if pos < 0 {
		list, i = &s.seeders, int(-pos-1)
	}
	last := len(*list) - 1
	if i != last {
		(*list)[i] = (*list)[last]
		if moved := &(*list)[i]; s.index != nil && moved.flags&flagUnindexed == 0 {
			s.index[sessionHash(seed, moved.user, &moved.id)] = pos
		}
	}
	(*list)[last] = peer{}
	*list = (*list)[:last]
	if cap(*list) > 64 && len(*list) < cap(*list)/4 {
		*list = append(make([]peer, 0, cap(*list)/2), *list...)
	}
}

// move switches the session at pos between the seeder and leecher lists and
// returns its new position.
func (s *swarm) move(h uint64, pos int32, seed maphash.Seed, seeder bool) int32 {
	p := *s.at(pos)
	s.cut(pos, seed)
	var np int32
	if seeder {
		p.flags |= flagSeeder
		s.seeders = append(s.seeders, p)
		np = int32(-len(s.seeders))
		s.leeching.add(p.user, -1)
	} else {
		p.flags &^= flagSeeder
		s.leechers = append(s.leechers, p)
		np = int32(len(s.leechers) - 1)
		s.leeching.add(p.user, 1)
	}
	if s.index != nil && p.flags&flagUnindexed == 0 {
		s.index[h] = np
	}
	return np
}

func (s *swarm) empty() bool { return len(s.seeders) == 0 && len(s.leechers) == 0 }

// swarmShard holds the swarms of the torrents whose id falls in it.
type swarmShard struct {
	mu     sync.Mutex
	swarms map[uint64]*swarm
	// snatches counts completed downloads per torrent; it outlives the
	// swarm (scrape's downloaded).
	snatches map[uint64]uint32
	_        [32]byte // keep shards on separate cache lines
}

// swarmStore is the sharded set of swarms.
type swarmStore struct {
	shards   []swarmShard
	seed     maphash.Seed
	leeching *leechCounts
}

func newSwarmStore(n int) *swarmStore {
	st := &swarmStore{shards: make([]swarmShard, n), seed: maphash.MakeSeed(), leeching: newLeechCounts()}
	for i := range st.shards {
		st.shards[i].swarms = map[uint64]*swarm{}
		st.shards[i].snatches = map[uint64]uint32{}
	}
	return st
}

func (st *swarmStore) shard(torrentID uint64) *swarmShard {
	return &st.shards[torrentID%uint64(len(st.shards))]
}

// Stats counts peers and swarms (for metrics; takes each shard lock briefly).
func (st *swarmStore) stats() (peers, seeders, torrents int) {
	for i := range st.shards {
		sh := &st.shards[i]
		sh.mu.Lock()
		torrents += len(sh.swarms)
		for _, s := range sh.swarms {
			seeders += len(s.seeders)
			peers += len(s.seeders) + len(s.leechers)
		}
		sh.mu.Unlock()
	}
	return peers, seeders, torrents
}

// expire removes sessions (and alt addresses) not seen since cutoff and
// drops empty swarms. It returns the number of sessions removed.
func (st *swarmStore) expire(cutoff uint32) int {
	removed := 0
	for i := range st.shards {
		sh := &st.shards[i]
		sh.mu.Lock()
		for id, s := range sh.swarms {
			removed += s.expire(cutoff, st.seed)
			if s.empty() {
				delete(sh.swarms, id)
			}
		}
		sh.mu.Unlock()
	}
	return removed
}

func (s *swarm) expire(cutoff uint32, seed maphash.Seed) int {
	removed := 0
	for _, seeders := range []bool{true, false} {
		list := &s.leechers
		if seeders {
			list = &s.seeders
		}
		for i := len(*list) - 1; i >= 0; i-- {
			p := &(*list)[i]
			pos := int32(i)
			if seeders {
				pos = int32(-i - 1)
			}
			h := sessionHash(seed, p.user, &p.id)
			last := p.seen
			if p.flags&flagHasAlt != 0 {
				a := s.alt[h]
				switch {
				case a.seen < cutoff:
					delete(s.alt, h)
					p.flags &^= flagHasAlt | flagLastAlt
				case p.seen < cutoff:
					// The primary address went quiet: the other family takes over.
					p.addr, p.port, p.seen, last = a.addr, a.port, a.seen, a.seen
					p.flags &^= flagHasAlt | flagLastAlt | flagIs4
					if a.is4 {
						p.flags |= flagIs4
					}
					delete(s.alt, h)
				case a.seen > last:
					last = a.seen
				}
			}
			if last < cutoff {
				s.remove(h, pos, seed)
				removed++
			}
		}
	}
	return removed
}
