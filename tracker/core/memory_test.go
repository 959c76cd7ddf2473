package core

import (
	"os"
	"runtime"
	"testing"
)

// TestSwarmMemoryPerPeer measures the heap of the swarm store holding 1M
// peers (set RG_MEMTEST=1; figure goes to docs/BENCHMARKS.md). Swarm sizes
// are skewed like a real tracker: most torrents small, a few large.
func TestSwarmMemoryPerPeer(t *testing.T) {
	if os.Getenv("RG_MEMTEST") == "" {
		t.Skip("set RG_MEMTEST=1 to measure the swarm store's memory with 1M peers")
	}
	const peers = 1_000_000
	before := heapInUse()
	st := newSwarmStore(256)
	n, tid := 0, uint64(1)
	for n < peers {
		size := 20 // 20-peer swarms ...
		switch {
		case tid%100 == 0:
			size = 2000 // ... 1% with 2000 peers
		case tid%10 == 0:
			size = 200
		}
		s := newSwarm(nil)
		st.shard(tid).swarms[tid] = s
		for i := 0; i < size && n < peers; i++ {
			p := peer{user: uint64(n%300000 + 1), seen: 1, port: 6881, flags: flagIs4}
			p.id[0], p.id[1], p.id[2], p.id[3] = byte(n), byte(n>>8), byte(n>>16), byte(n>>24)
			p.addr[0], p.addr[1], p.addr[2] = 10, byte(n), byte(n>>8)
			if n%3 == 0 {
				p.flags |= flagSeeder
			}
			s.insert(sessionHash(st.seed, p.user, &p.id), p, st.seed)
			n++
		}
		tid++
	}
	after := heapInUse()
	peersN, _, torrents := st.stats()
	perPeer := float64(after-before) / float64(peersN)
	t.Logf("swarm store: %d peers in %d torrents, %d bytes of heap, %.1f bytes per peer", peersN, torrents, after-before, perPeer)
	if perPeer > 150 {
		t.Errorf("%.1f bytes per peer, budget 150", perPeer)
	}
	runtime.KeepAlive(st)
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
