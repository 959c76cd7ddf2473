package core_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/ratioguard/ratioguard/schemas/events"
	"github.com/ratioguard/ratioguard/tracker/core"
)

// restarted is a second core on the same policy and clock, as a tracker
// process started after f's stopped.
func (f *fixture) restarted(cfg core.Config) *fixture {
	g := &fixture{t: f.t, clock: f.clock, sink: &memSink{}, pol: f.pol}
	if cfg.Interval == 0 {
		cfg.Interval = interval
	}
	if cfg.MinInterval == 0 {
		cfg.MinInterval = 10 * time.Second
	}
	g.core = core.New(cfg, g.pol, g.sink, g.clock)
	return g
}

func (f *fixture) events() []*events.Announce {
	f.sink.mu.Lock()
	defer f.sink.mu.Unlock()
	return append([]*events.Announce(nil), f.sink.evs...)
}

func snapshot(t *testing.T, c *core.Core) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := c.WriteState(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func at(r *core.Request, up, down, left uint64, ev events.Event) *core.Request {
	r.Uploaded, r.Downloaded, r.Left, r.Event = up, down, left, ev
	return r
}

// TestRestartFromSnapshotCreditsTheDelta is the measured loss of issue 13:
// a peer at 1,000 bytes before a restart and 5,000 after is credited 4,000.
func TestRestartFromSnapshotCreditsTheDelta(t *testing.T) {
	f := newFixture(t, core.Config{})
	f.user(1)
	f.torrent(10, core.NoPromotion)
	f.mustAccept(at(req(1, 10, "a", "10.0.0.1", 100), 0, 0, 100, events.Event_EVENT_STARTED))
	f.clock.Advance(time.Minute)
	f.mustAccept(at(req(1, 10, "a", "10.0.0.1", 100), 1000, 0, 100, events.Event_EVENT_NONE))
	snap := snapshot(t, f.core)

	f.clock.Advance(time.Minute)
	g := f.restarted(core.Config{Epoch: f.core.Epoch()})
	cnt, err := g.core.ReadState(bytes.NewReader(snap))
	if err != nil {
		t.Fatal(err)
	}
	if cnt.Sessions != 1 || cnt.Torrents != 1 || cnt.Users != 1 {
		t.Fatalf("loaded %+v, want 1 session, torrent and user", cnt)
	}
	_, ev := g.mustAccept(at(req(1, 10, "a", "10.0.0.1", 0), 5000, 100, 0, events.Event_EVENT_COMPLETED))
	if ev.DeltaUploaded != 4000 || ev.DeltaDownloaded != 100 || ev.SecondsSincePrevious != 60 {
		t.Fatalf("after restart: delta up %d down %d after %d s, want 4000, 100, 60", ev.DeltaUploaded, ev.DeltaDownloaded, ev.SecondsSincePrevious)
	}
	if !ev.Snatch {
		t.Fatal("completion after restart is not a snatch")
	}
	if st, _ := g.core.Scrape(infoHash(10)); st.Downloaded != 1 || st.Complete != 1 {
		t.Fatalf("scrape %+v, want 1 complete, 1 downloaded", st)
	}
}

// scenario drives a few sessions through what changes state: start,
// interval, dual-stack, counter reset, completion, stop, and returns the
// requests to send after a restart with the deltas each must get.
func scenario(f *fixture) {
	f.user(1)
	f.user(2)
	f.torrent(10, core.NoPromotion)
	f.torrent(11, core.Promotion{Name: "free", DownloadPercent: 0, UploadPercent: 100})
	step := func(r *core.Request) { f.mustAccept(r); f.clock.Advance(20 * time.Second) }
	step(at(req(1, 10, "a", "10.0.0.1", 50), 0, 0, 50, events.Event_EVENT_STARTED))
	step(at(req(1, 10, "a", "2001:db8::1", 50), 0, 0, 50, events.Event_EVENT_STARTED)) // dual stack
	step(at(req(2, 10, "b", "10.0.0.2", 0), 0, 0, 0, events.Event_EVENT_STARTED))
	step(at(req(1, 10, "a", "10.0.0.1", 50), 300, 20, 30, events.Event_EVENT_NONE))
	step(at(req(1, 10, "a", "2001:db8::1", 50), 300, 20, 30, events.Event_EVENT_NONE)) // duplicate
	step(at(req(2, 10, "b", "10.0.0.2", 0), 700, 0, 0, events.Event_EVENT_NONE))
	step(at(req(2, 11, "c", "10.0.0.3", 100), 0, 0, 100, events.Event_EVENT_STARTED))
	step(at(req(2, 11, "c", "10.0.0.3", 0), 10, 100, 0, events.Event_EVENT_COMPLETED))
	step(at(req(2, 11, "d", "10.0.0.3", 100), 0, 0, 100, events.Event_EVENT_STARTED))
	step(at(req(2, 11, "d", "10.0.0.3", 100), 400, 0, 100, events.Event_EVENT_STOPPED))
	step(at(req(1, 10, "a", "10.0.0.1", 30), 5, 1, 30, events.Event_EVENT_NONE)) // counter reset
	step(at(req(1, 10, "a", "10.0.0.1", 30), 905, 1, 30, events.Event_EVENT_NONE))
}

type next struct {
	r        *core.Request
	up, down uint64
}

func nextAnnounces() []next {
	return []next{
		{at(req(1, 10, "a", "10.0.0.1", 0), 1000, 11, 0, events.Event_EVENT_NONE), 95, 10},
		{at(req(2, 10, "b", "10.0.0.2", 0), 750, 0, 0, events.Event_EVENT_NONE), 50, 0},
		{at(req(2, 11, "c", "10.0.0.3", 0), 15, 100, 0, events.Event_EVENT_NONE), 5, 0},
		// d stopped: a new session, whose first announce is its baseline.
		{at(req(2, 11, "d", "10.0.0.3", 0), 450, 0, 0, events.Event_EVENT_NONE), 0, 0},
	}
}

func checkNext(t *testing.T, g *fixture, what string) {
	t.Helper()
	for _, n := range nextAnnounces() {
		_, ev := g.mustAccept(n.r)
		if ev.DeltaUploaded != n.up || ev.DeltaDownloaded != n.down {
			t.Errorf("%s: peer %q on %d: delta up %d down %d, want %d %d", what, n.r.PeerID[8:9], ev.TorrentId,
				ev.DeltaUploaded, ev.DeltaDownloaded, n.up, n.down)
		}
	}
	if st, _ := g.core.Scrape(infoHash(11)); st.Downloaded != 1 {
		t.Errorf("%s: torrent 11 downloaded %d, want 1", what, st.Downloaded)
	}
}

// TestLearningTheEventsRebuildsTheState replays the event stream alone (no
// snapshot), then from a snapshot taken half way with the whole stream
// replayed over it (events the snapshot already holds are learnt again):
// both answer the next announces with the deltas of the original core.
func TestLearningTheEventsRebuildsTheState(t *testing.T) {
	f := newFixture(t, core.Config{})
	f.user(1)
	f.user(2)
	f.torrent(10, core.NoPromotion)
	start := f.clock.Now()
	scenario(f)
	evs := f.events()

	t.Run("events only", func(t *testing.T) {
		g := f.restarted(core.Config{Epoch: start})
		for _, ev := range evs {
			g.core.Learn(ev)
		}
		checkNext(t, g, "replayed")
	})
	t.Run("snapshot then events again", func(t *testing.T) {
		h := f.restarted(core.Config{Epoch: start})
		for _, ev := range evs[:6] {
			h.core.Learn(ev)
		}
		snap := snapshot(t, h.core)
		g := f.restarted(core.Config{Epoch: start})
		if _, err := g.core.ReadState(bytes.NewReader(snap)); err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs[3:] {
			g.core.Learn(ev)
		}
		checkNext(t, g, "snapshot+replay")
	})
	t.Run("original", func(t *testing.T) { checkNext(t, f, "original") })
}

// TestLearnIgnoresStaleEvents: a late copy of an older event does not move
// the baseline back (which would credit the same bytes twice).
func TestLearnIgnoresStaleEvents(t *testing.T) {
	f := newFixture(t, core.Config{})
	f.user(1)
	f.torrent(10, core.NoPromotion)
	f.mustAccept(at(req(1, 10, "a", "10.0.0.1", 9), 0, 0, 9, events.Event_EVENT_STARTED))
	f.clock.Advance(time.Minute)
	_, old := f.mustAccept(at(req(1, 10, "a", "10.0.0.1", 9), 100, 0, 9, events.Event_EVENT_NONE))
	f.clock.Advance(time.Minute)
	f.mustAccept(at(req(1, 10, "a", "10.0.0.1", 9), 400, 0, 9, events.Event_EVENT_NONE))
	f.core.Learn(old)
	f.clock.Advance(time.Minute)
	_, ev := f.mustAccept(at(req(1, 10, "a", "10.0.0.1", 9), 500, 0, 9, events.Event_EVENT_NONE))
	if ev.DeltaUploaded != 100 {
		t.Fatalf("delta %d after a stale event was learnt, want 100", ev.DeltaUploaded)
	}
}

// TestLearntPeerWithoutPortIsNotHandedOut: an old tracker's peer imported
// without a port (Gazelle's) is its session's baseline and no other peer's
// answer holds it, in either family; its own announce gives the port, on
// the family it came on, and credits its delta since the baseline.
func TestLearntPeerWithoutPortIsNotHandedOut(t *testing.T) {
	f := newFixture(t, core.Config{})
	for u := uint64(1); u <= 3; u++ {
		f.user(u)
	}
	f.torrent(10, core.NoPromotion)
	imported := req(1, 10, "imported", "10.1.1.1", 0)
	f.core.Learn(&events.Announce{SchemaVersion: events.SchemaVersion, TimeUnixNano: f.clock.Now().UnixNano(),
		Result: events.Result_RESULT_ACCEPTED, UserId: 1, TorrentId: 10, PeerId: imported.PeerID,
		Ip: imported.Addr.AsSlice(), Uploaded: 5000})
	handedOut := func(asker *core.Request) bool {
		t.Helper()
		ans, _ := f.mustAccept(asker)
		if ans.Complete != 1 {
			t.Fatalf("complete %d: the imported seeder is in the swarm", ans.Complete)
		}
		for _, p := range ans.Peers {
			if p.ID == [20]byte(imported.PeerID) {
				if p.Port == 0 {
					t.Fatalf("handed out with port 0: %+v", p)
				}
				return true
			}
		}
		return false
	}
	v4, v6 := req(2, 10, "asker4", "10.2.2.2", 9), req(3, 10, "asker6", "2001:db8::3", 9)
	if handedOut(v4) || handedOut(v6) {
		t.Fatal("the imported peer without a port handed out")
	}
	f.clock.Advance(time.Minute)
	_, ev := f.mustAccept(at(req(1, 10, "imported", "2001:db8::1", 0), 5300, 0, 0, events.Event_EVENT_NONE))
	if ev.DeltaUploaded != 300 {
		t.Fatalf("first announce credited %d, want the 300 since the baseline", ev.DeltaUploaded)
	}
	if !handedOut(v6) || handedOut(v4) {
		t.Fatal("after its IPv6 announce: want it handed to the IPv6 asker only (its IPv4 port is still unknown)")
	}
	f.clock.Advance(time.Minute)
	f.mustAccept(at(req(1, 10, "imported", "10.1.1.1", 0), 5300, 0, 0, events.Event_EVENT_NONE))
	if !handedOut(v4) {
		t.Fatal("after its IPv4 announce: not handed to the IPv4 asker")
	}
}

// TestLearntLocationsAndBadPasskeysCount: what another instance allowed
// counts here — the member's three locations elsewhere refuse a fourth, an
// address that sent unknown passkeys elsewhere is blocked here.
func TestLearntLocationsAndBadPasskeysCount(t *testing.T) {
	other := newFixture(t, core.Config{BadPasskeyLimit: 3})
	other.user(1)
	other.torrent(10, core.NoPromotion)
	other.torrent(11, core.NoPromotion)
	for i, ip := range []string{"10.0.0.1", "10.0.0.2", "10.0.0.3"} {
		other.mustAccept(req(1, 10+uint64(i%2), string(rune('a'+i)), ip, 5))
	}
	for range 3 {
		r := req(1, 10, "z", "192.0.2.9", 5)
		r.Passkey = "ffffffffffffffffffffffffffffffff"
		other.mustRefuse(r, events.Refusal_REFUSAL_UNKNOWN_PASSKEY)
	}
	here := other.restarted(core.Config{BadPasskeyLimit: 3})
	for _, ev := range other.events() {
		here.core.Learn(ev)
	}
	here.mustRefuse(req(1, 11, "d", "10.0.0.4", 5), events.Refusal_REFUSAL_TOO_MANY_IPS)
	here.mustAccept(req(1, 11, "e", "10.0.0.2", 5))
	guess := req(1, 11, "f", "192.0.2.9", 5)
	guess.Passkey = "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"
	here.mustRefuse(guess, events.Refusal_REFUSAL_RATE_LIMITED)
}

func TestCorruptSnapshotIsRefusedWhole(t *testing.T) {
	f := newFixture(t, core.Config{})
	scenario(f)
	snap := snapshot(t, f.core)
	for name, b := range map[string][]byte{
		"truncated": snap[:len(snap)-7],
		"bit flip":  append(append([]byte(nil), snap[:40]...), append([]byte{snap[40] ^ 1}, snap[41:]...)...),
		"empty":     nil,
		"foreign":   []byte("RGSPOOL1 and some more bytes here"),
	} {
		g := f.restarted(core.Config{})
		if _, err := g.core.ReadState(bytes.NewReader(b)); !errors.Is(err, core.ErrBadState) {
			t.Errorf("%s: err %v, want ErrBadState", name, err)
		}
		if st := g.core.Stats(); st.Peers != 0 || st.Users != 0 {
			t.Errorf("%s: a refused snapshot left %+v", name, st)
		}
	}
	g := f.restarted(core.Config{})
	if _, err := g.core.ReadState(bytes.NewReader(snap)); err != nil {
		t.Fatalf("intact snapshot: %v", err)
	}
	if a, b := f.core.Stats(), g.core.Stats(); a != b {
		t.Fatalf("stats after load %+v, want %+v", b, a)
	}
}

// TestSnatchCountsOutliveSwarmsAndTakeTheLedgers: scrape's downloaded
// stays when the swarm empties, and the ledger's count raises it (never
// lowers it).
func TestSnatchCountsOutliveSwarmsAndTakeTheLedgers(t *testing.T) {
	f := newFixture(t, core.Config{})
	f.user(1)
	f.torrent(10, core.NoPromotion)
	f.torrent(11, core.NoPromotion)
	f.mustAccept(at(req(1, 10, "a", "10.0.0.1", 0), 0, 0, 0, events.Event_EVENT_COMPLETED))
	f.mustAccept(at(req(1, 10, "a", "10.0.0.1", 0), 0, 0, 0, events.Event_EVENT_STOPPED))
	if st, ok := f.core.Scrape(infoHash(10)); !ok || st.Downloaded != 1 || st.Complete != 0 {
		t.Fatalf("after the last peer stopped: %+v, want downloaded 1 and no peer", st)
	}
	f.core.AddSnatches(map[uint64]uint32{10: 0, 11: 7})
	a, _ := f.core.Scrape(infoHash(10))
	b, _ := f.core.Scrape(infoHash(11))
	if a.Downloaded != 1 || b.Downloaded != 7 {
		t.Fatalf("after the ledger's counts: %d and %d, want 1 (kept) and 7", a.Downloaded, b.Downloaded)
	}
}
