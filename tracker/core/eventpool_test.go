package core_test

import (
	"testing"

	"github.com/ratioguard/ratioguard/schemas/events"
	"github.com/ratioguard/ratioguard/tracker/core"
)

// recycleSink encodes each event (as tracker/stream does) and hands it back
// to the pool.
type recycleSink struct {
	pool    *core.EventPool
	buf     []byte
	encoded [][]byte
	keep    bool
}

func (s *recycleSink) Publish(ev *events.Announce) {
	var err error
	s.buf, err = events.AppendEncode(s.buf[:0], ev)
	if err != nil {
		panic(err)
	}
	if s.keep {
		s.encoded = append(s.encoded, append([]byte(nil), s.buf...))
	}
	s.pool.Put(ev)
}

// A recycled event starts blank: a refusal's fields do not leak into the
// next event, and each event encodes exactly like one from a core without a
// pool.
func TestEventPoolRecyclesBlankEvents(t *testing.T) {
	pool := core.NewEventPool()
	sink := &recycleSink{pool: pool, keep: true}
	f := newFixture(t, core.Config{})
	f.core = core.New(core.Config{Interval: interval, MinInterval: 1, Events: pool}, f.pol, sink, f.clock)
	plain := newFixture(t, core.Config{Interval: interval, MinInterval: 1})
	for _, fx := range []*fixture{f, plain} {
		fx.user(1)
		fx.torrent(1, core.Promotion{Name: "free", DownloadPercent: 0, UploadPercent: 100})
	}
	reqs := []*core.Request{
		req(9, 1, "unknown-user", "10.0.0.1", 5), // refused: unknown passkey
		req(1, 1, "first", "10.0.0.1", 5),        // accepted, baseline
		req(1, 2, "first", "10.0.0.1", 5),        // refused: torrent not registered
		req(1, 1, "first", "10.0.0.1", 0),        // accepted: completed
		func() *core.Request { r := req(1, 1, "x", "10.0.0.1", 1); r.Malformed = "bad"; return r }(),
	}
	ans := &core.Answer{}
	for i, r := range reqs {
		r.Downloaded = uint64(i) * 1000
		f.core.Announce(r, ans)
		plain.core.Announce(r, &core.Answer{})
		got, err := events.Decode(sink.encoded[i])
		if err != nil {
			t.Fatal(err)
		}
		want := plain.sink.last(t)
		// Ids and times differ between the two cores.
		got.EventId, got.ProducerId, got.TimeUnixNano = want.EventId, want.ProducerId, want.TimeUnixNano
		gb, _ := events.Encode(got)
		wb, _ := events.Encode(want)
		if string(gb) != string(wb) {
			t.Errorf("announce %d: pooled event %v\nwant %v", i, got, want)
		}
	}
}
