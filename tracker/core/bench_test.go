package core_test

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/ratioguard/ratioguard/schemas/events"
	"github.com/ratioguard/ratioguard/tracker/core"
)

type discardSink struct{}

func (discardSink) Publish(*events.Announce) {}

// warmCore builds a core with 5k users on 2k torrents, 20k sessions (10 per
// swarm), and returns the requests that re-announce those sessions. With a
// pool, the core takes its events from it and the sink gives them back.
func warmCore(tb testing.TB, pool *core.EventPool) (*core.Core, []*core.Request) {
	f := newFixture(tb, core.Config{})
	var sink core.Sink = discardSink{}
	if pool != nil {
		sink = &recycleSink{pool: pool}
	}
	f.core = core.New(core.Config{Interval: interval, MinInterval: 1, Events: pool}, f.pol, sink, f.clock)
	for u := uint64(1); u <= 5000; u++ {
		f.user(u)
	}
	for t := uint64(1); t <= 2000; t++ {
		f.torrent(t, core.Promotion{Name: "50%", DownloadPercent: 50, UploadPercent: 100})
	}
	reqs := make([]*core.Request, 20000)
	ans := &core.Answer{}
	for i := range reqs {
		u, t := uint64(i%5000+1), uint64(i%2000+1)
		r := req(u, t, fmt.Sprintf("%d", i), fmt.Sprintf("10.%d.%d.1", u/256, u%256), uint64(i%3))
		if i%7 == 0 {
			r.Addr = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, byte(u >> 8), byte(u), 15: 1})
		}
		f.core.Announce(r, ans)
		if ans.Failure != "" {
			tb.Fatalf("warm-up announce %d refused: %s", i, ans.Failure)
		}
		reqs[i] = r
	}
	return f.core, reqs
}

// BenchmarkAnnounce: parsed request in, answer and event out (regular
// re-announce of an existing session in a 10-peer swarm).
func BenchmarkAnnounce(b *testing.B) {
	c, reqs := warmCore(b, nil)
	ans := &core.Answer{Peers: make([]core.Peer, 0, 64)}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := reqs[i%len(reqs)]
		r.Uploaded += 16384
		c.Announce(r, ans)
	}
}

func BenchmarkAnnounceParallel(b *testing.B) {
	c, reqs := warmCore(b, nil)
	b.ReportAllocs()
	b.ResetTimer()
	var next atomicCounter
	b.RunParallel(func(pb *testing.PB) {
		ans := &core.Answer{Peers: make([]core.Peer, 0, 64)}
		for pb.Next() {
			r := *reqs[next.add()%uint64(len(reqs))]
			c.Announce(&r, ans)
		}
	})
}

func TestAnnounceAllocations(t *testing.T) {
	for _, tc := range []struct {
		name   string
		pool   *core.EventPool
		budget float64
	}{{"fresh events", nil, 3}, {"event pool", core.NewEventPool(), 0}} {
		t.Run(tc.name, func(t *testing.T) {
			if raceEnabled {
				t.Skip("the race detector adds allocations")
			}
			c, reqs := warmCore(t, tc.pool)
			// The parameters qBittorrent (libtorrent) sends, at most.
			qb := []string{"info_hash", "peer_id", "port", "uploaded", "downloaded", "left", "corrupt", "key",
				"event", "numwant", "compact", "no_peer_id", "supportcrypto", "redundant", "ipv6", "ipv4"}
			for _, r := range reqs {
				r.ParamOrder = qb
			}
			ans := &core.Answer{Peers: make([]core.Peer, 0, 64)}
			i := 0
			n := testing.AllocsPerRun(2000, func() {
				r := reqs[i%len(reqs)]
				r.Uploaded += 1
				c.Announce(r, ans)
				i++
			})
			if n > tc.budget {
				t.Fatalf("announce allocates %.1f times per op, budget %v", n, tc.budget)
			}
		})
	}
}

// BenchmarkAnnouncePooled: BenchmarkAnnounce with an event pool and a sink
// that encodes each event and gives it back (what tracker/stream does).
func BenchmarkAnnouncePooled(b *testing.B) {
	c, reqs := warmCore(b, core.NewEventPool())
	ans := &core.Answer{Peers: make([]core.Peer, 0, 64)}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := reqs[i%len(reqs)]
		r.Uploaded += 16384
		c.Announce(r, ans)
	}
}
