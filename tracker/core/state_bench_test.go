package core_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"github.com/ratioguard/ratioguard/schemas/events"
	"github.com/ratioguard/ratioguard/tracker/core"
	"github.com/ratioguard/ratioguard/tracker/policy"
)

// Start-up with 1 M peers (200,000 torrents × 5 sessions, 250,000 members
// with 4 sessions each), three ways, each per whole state (one op = 1 M
// sessions):
//
//   - BenchmarkStartFromSnapshot: ReadState of a snapshot (the normal
//     restart: then only the events since the snapshot are replayed);
//   - BenchmarkStartFromEvents: Learn of one accepted event per session,
//     decoded from its protobuf bytes (a restart without a snapshot: the
//     topic of the last two intervals);
//   - BenchmarkStartFromAnnounces (the baseline): the same 1 M sessions
//     built by Announce, the work the clients' first announces do on a
//     tracker that keeps nothing.
const (
	benchTorrents = 200_000
	benchPerSwarm = 5
	benchSessions = benchTorrents * benchPerSwarm
)

var benchStart = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// benchEvents returns the encoded accepted event of every session.
func benchEvents(b *testing.B) [][]byte {
	b.Helper()
	out := make([][]byte, 0, benchSessions)
	ev := &events.Announce{SchemaVersion: 1, EventId: make([]byte, 16), Result: events.Result_RESULT_ACCEPTED,
		Port: 51413, Left: 1 << 20, Event: events.Event_EVENT_STARTED}
	for i := range benchSessions {
		user := uint64(i/4 + 1)
		ev.TimeUnixNano = benchStart.Add(time.Duration(i%600) * time.Second).UnixNano()
		binary.BigEndian.PutUint64(ev.EventId[8:], uint64(i))
		ev.UserId, ev.TorrentId = user, uint64(i%benchTorrents+1)
		ev.PeerId = fmt.Appendf(nil, "-qB4650-%012d", i)
		ev.Ip = []byte{10, byte(user >> 16), byte(user >> 8), byte(user)}
		ev.Uploaded, ev.Downloaded = uint64(i)*1000, uint64(i)*10
		v, err := events.Encode(ev)
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

func benchCore(clock core.Clock) *core.Core {
	return core.New(core.Config{Interval: time.Hour, Epoch: benchStart}, policy.NewCache(), discardSink{}, clock)
}

func learnAll(b *testing.B, c *core.Core, evs [][]byte) {
	var ev events.Announce
	for _, v := range evs {
		if err := events.DecodeInto(v, &ev); err != nil {
			b.Fatal(err)
		}
		c.Learn(&ev)
	}
}

func BenchmarkStartFromSnapshot(b *testing.B) {
	clock := &fakeClock{t: benchStart.Add(time.Hour)}
	src := benchCore(clock)
	learnAll(b, src, benchEvents(b))
	var snap bytes.Buffer
	if err := src.WriteState(&snap); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		c := benchCore(clock)
		cnt, err := c.ReadState(bytes.NewReader(snap.Bytes()))
		if err != nil || cnt.Sessions != benchSessions {
			b.Fatalf("loaded %+v, %v", cnt, err)
		}
	}
	b.ReportMetric(float64(snap.Len())/benchSessions, "file-bytes/session")
}

func BenchmarkStartFromEvents(b *testing.B) {
	clock := &fakeClock{t: benchStart.Add(time.Hour)}
	evs := benchEvents(b)
	b.ResetTimer()
	for range b.N {
		c := benchCore(clock)
		learnAll(b, c, evs)
		if st := c.Stats(); st.Peers != benchSessions {
			b.Fatalf("%d sessions", st.Peers)
		}
	}
}

func BenchmarkStartFromAnnounces(b *testing.B) {
	f := newFixture(b, core.Config{})
	users := benchSessions / 4
	for u := uint64(1); u <= uint64(users); u++ {
		f.user(u)
	}
	for t := uint64(1); t <= benchTorrents; t++ {
		f.torrent(t, core.NoPromotion)
	}
	reqs := make([]*core.Request, benchSessions)
	for i := range reqs {
		u := uint64(i/4 + 1)
		r := req(u, uint64(i%benchTorrents+1), "", fmt.Sprintf("10.%d.%d.%d", byte(u>>16), byte(u>>8), byte(u)), 1<<20)
		r.PeerID = fmt.Appendf(nil, "-qB4650-%012d", i)
		r.NumWant = 0
		reqs[i] = r
	}
	ans := &core.Answer{}
	b.ResetTimer()
	for range b.N {
		c := core.New(core.Config{Interval: time.Hour}, f.pol, discardSink{}, f.clock)
		for _, r := range reqs {
			c.Announce(r, ans)
			if ans.Failure != "" {
				b.Fatal(ans.Failure)
			}
		}
	}
}

// BenchmarkSnapshotWrite: WriteState of the 1 M sessions to memory, what a
// periodic snapshot costs (each shard locked for its own copy only).
func BenchmarkSnapshotWrite(b *testing.B) {
	clock := &fakeClock{t: benchStart.Add(time.Hour)}
	c := benchCore(clock)
	learnAll(b, c, benchEvents(b))
	var buf bytes.Buffer
	b.ResetTimer()
	for range b.N {
		buf.Reset()
		if err := c.WriteState(&buf); err != nil {
			b.Fatal(err)
		}
	}
}
