package offline

import (
	"context"
	"encoding/binary"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/ratioguard/ratioguard/schemas/events"
	"github.com/ratioguard/ratioguard/tracker/core"
	"github.com/ratioguard/ratioguard/tracker/policy"
)

type memWriter struct {
	mu     sync.Mutex
	writes [][]kafka.Message
}

func (w *memWriter) WriteMessages(_ context.Context, msgs ...kafka.Message) error {
	w.mu.Lock()
	w.writes = append(w.writes, msgs)
	w.mu.Unlock()
	return nil
}

const pk = "0123456789abcdef0123456789abcdef"

var ih = [20]byte{1, 2, 3}

func announce(peer byte, up uint64) *core.Request {
	return &core.Request{Passkey: pk, InfoHash: ih[:], PeerID: []byte("-qB4650-aaaaaaaaaaa" + string(rune('a'+peer))),
		Addr: netip.MustParseAddr("192.0.2.1"), Port: 6881, Uploaded: up, NumWant: -1, UserAgent: "qBittorrent/4.6.5"}
}

// The runner's clock follows the requests (never back), peers expire on
// the core's interval of that clock, and the sink writes every event in
// batches, stamped with the given producer, keyed by user, the same bytes
// for the same run.
func TestRunnerAndSink(t *testing.T) {
	run := func() (*Sink, *memWriter, []*events.Announce) {
		pol := policy.NewCache()
		pol.PutUser(pk, &core.User{ID: 7, Enabled: true, CanLeech: true})
		pol.PutTorrent(ih, &core.Torrent{ID: 9, Size: 1 << 30, Promotion: core.NoPromotion})
		w := &memWriter{}
		sink := NewSink(context.Background(), w, [8]byte{'t', 'e', 's', 't', 0, 0, 0, 1}, 2)
		t0 := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
		r := NewRunner(core.Config{Interval: 10 * time.Minute}, pol, sink, t0)
		if sink.Recycle == nil {
			t.Fatal("NewRunner did not give the core and the sink an event pool")
		}
		var ans core.Answer
		r.Announce(t0, announce(0, 0), &ans)
		r.Announce(t0.Add(5*time.Minute), announce(0, 1000), &ans)
		r.Announce(t0.Add(4*time.Minute), announce(1, 0), &ans) // earlier: at the clock
		if !r.Now().Equal(t0.Add(5 * time.Minute)) {
			t.Fatalf("clock went back to %s", r.Now())
		}
		r.Announce(t0.Add(40*time.Minute), announce(0, 5000), &ans) // peer 0 expired: no delta
		if err := sink.Close(); err != nil {
			t.Fatal(err)
		}
		var evs []*events.Announce
		for _, msgs := range w.writes {
			for _, m := range msgs {
				ev, err := events.Decode(m.Value)
				if err != nil {
					t.Fatal(err)
				}
				if binary.BigEndian.Uint64(m.Key) != ev.GetUserId() {
					t.Fatalf("key %x for user %d", m.Key, ev.GetUserId())
				}
				evs = append(evs, ev)
			}
		}
		return sink, w, evs
	}
	sink, w, evs := run()
	if len(w.writes) != 2 || len(evs) != 4 || sink.Events != 4 || sink.Accepted != 4 {
		t.Fatalf("%d writes, %d events, sink %d/%d", len(w.writes), len(evs), sink.Events, sink.Accepted)
	}
	for i, ev := range evs {
		want := events.ID([8]byte{'t', 'e', 's', 't', 0, 0, 0, 1}, uint64(i+1))
		if string(ev.GetEventId()) != string(want) || string(ev.GetProducerId()) != "test\x00\x00\x00\x01" {
			t.Errorf("event %d: id %x producer %x", i, ev.GetEventId(), ev.GetProducerId())
		}
	}
	if evs[1].GetDeltaUploaded() != 1000 || evs[3].GetDeltaUploaded() != 0 {
		t.Errorf("deltas %d, %d", evs[1].GetDeltaUploaded(), evs[3].GetDeltaUploaded())
	}
	if got := time.Unix(0, evs[2].GetTimeUnixNano()).UTC(); got.Minute() != 5 {
		t.Errorf("late request at %s, want the clock (0:05)", got)
	}
	again, _, _ := run()
	if again.Digest() != sink.Digest() {
		t.Errorf("same run, digests %s and %s", sink.Digest(), again.Digest())
	}
}
