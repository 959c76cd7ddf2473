package core

import (
	"hash/maphash"
	"math/rand/v2"
	"testing"
)

// TestSwarmFindsEverySessionAcrossTheIndexThreshold drives one swarm through
// random inserts, seeder/leecher moves and removals, growing it past
// indexThreshold (small swarms are scanned, larger ones indexed) and
// shrinking it back, some inserts with a hash already taken (a collision),
// and checks after every step that each live session is found where it is and
// no removed one is found.
func TestSwarmFindsEverySessionAcrossTheIndexThreshold(t *testing.T) {
	type key struct {
		user uint64
		id   [20]byte
	}
	seed := maphash.MakeSeed()
	rng := rand.New(rand.NewPCG(1, 2))
	s := newSwarm(newLeechCounts())
	live := map[key]bool{} // session -> seeder
	var gone []key
	next := 0
	newKey := func() key {
		next++
		k := key{user: uint64(next%7 + 1)}
		k.id[0], k.id[1] = byte(next), byte(next>>8)
		return k
	}
	check := func(step int) {
		t.Helper()
		if n := len(s.seeders) + len(s.leechers); n != len(live) {
			t.Fatalf("step %d: swarm holds %d sessions, want %d", step, n, len(live))
		}
		for k, seeder := range live {
			pos, ok := s.find(sessionHash(seed, k.user, &k.id), k.user, &k.id)
			if !ok {
				t.Fatalf("step %d: session %v not found (swarm of %d, indexed %v)", step, k, len(live), s.index != nil)
			}
			if p := s.at(pos); p.user != k.user || p.id != k.id || (p.flags&flagSeeder != 0) != seeder {
				t.Fatalf("step %d: session %v found at %d holding another session or list", step, k, pos)
			}
		}
		for _, k := range gone {
			if _, ok := s.find(sessionHash(seed, k.user, &k.id), k.user, &k.id); ok {
				t.Fatalf("step %d: removed session %v found", step, k)
			}
		}
	}
	any := func() key {
		for k := range live {
			return k
		}
		panic("empty swarm")
	}
	indexed, collided := false, 0
	for step := 0; step < 3000; step++ {
		grow := step%1000 < 600 // grow to ~100 sessions, then shrink
		switch op := rng.IntN(10); {
		case len(live) == 0 || (grow && op < 6) || (!grow && op < 2):
			k := newKey()
			seeder := rng.IntN(3) == 0
			p := peer{id: k.id, user: k.user, seen: 1, port: 6881, flags: flagIs4}
			if seeder {
				p.flags |= flagSeeder
			}
			h := sessionHash(seed, k.user, &k.id)
			if s.index != nil && len(live) > 0 && rng.IntN(4) == 0 {
				// a collision: the hash of a session already indexed
				o := any()
				if oh := sessionHash(seed, o.user, &o.id); hasKey(s.index, oh) {
					h = oh
					collided++
				}
			}
			s.insert(h, p, seed)
			live[k] = seeder
		case op < 8:
			k := any()
			h := sessionHash(seed, k.user, &k.id)
			pos, _ := s.find(h, k.user, &k.id)
			s.move(h, pos, seed, !live[k])
			live[k] = !live[k]
		default:
			k := any()
			h := sessionHash(seed, k.user, &k.id)
			pos, _ := s.find(h, k.user, &k.id)
			s.remove(h, pos, seed)
			delete(live, k)
			gone = append(gone, k)
		}
		indexed = indexed || s.index != nil
		if len(live) <= indexThreshold && s.index == nil && s.collisions != 0 {
			t.Fatalf("step %d: %d collisions counted without an index", step, s.collisions)
		}
		check(step)
	}
	if !indexed || collided == 0 {
		t.Fatalf("the swarm was indexed: %v (threshold %d), %d inserts collided: the test covers less than it says", indexed, indexThreshold, collided)
	}
}

func hasKey(m map[uint64]int32, k uint64) bool {
	_, ok := m[k]
	return ok
}
