package core_test

import (
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ratioguard/ratioguard/schemas/events"
	"github.com/ratioguard/ratioguard/tracker/core"
	"github.com/ratioguard/ratioguard/tracker/policy"
)

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// memSink keeps every event.
type memSink struct {
	mu  sync.Mutex
	evs []*events.Announce
}

func (s *memSink) Publish(ev *events.Announce) { s.mu.Lock(); s.evs = append(s.evs, ev); s.mu.Unlock() }
func (s *memSink) last(t testing.TB) *events.Announce {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.evs) == 0 {
		t.Fatal("no event published")
	}
	ev := s.evs[len(s.evs)-1]
	if err := events.Validate(ev); err != nil {
		t.Fatalf("published event invalid: %v", err)
	}
	return ev
}

type fixture struct {
	t     testing.TB
	clock *fakeClock
	sink  *memSink
	pol   *policy.Cache
	core  *core.Core
}

const interval = 100 * time.Second

func newFixture(t testing.TB, cfg core.Config) *fixture {
	f := &fixture{t: t, clock: &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}, sink: &memSink{}, pol: policy.NewCache()}
	if cfg.Interval == 0 {
		cfg.Interval = interval
	}
	if cfg.MinInterval == 0 {
		cfg.MinInterval = 10 * time.Second
	}
	f.core = core.New(cfg, f.pol, f.sink, f.clock)
	return f
}

func passkey(user uint64) string { return fmt.Sprintf("%032x", user) }
func infoHash(id uint64) [20]byte {
	var h [20]byte
	copy(h[:], fmt.Sprintf("torrent-%012d", id))
	return h
}
func peerID(s string) []byte {
	b := []byte("-qB4650-000000000000")
	copy(b[8:], s)
	return b
}

func (f *fixture) user(id uint64) *core.User {
	u := &core.User{ID: id, Enabled: true, CanLeech: true}
	f.pol.PutUser(passkey(id), u)
	return u
}

func (f *fixture) torrent(id uint64, promo core.Promotion) *core.Torrent {
	tr := &core.Torrent{ID: id, Size: 1 << 30, Promotion: promo}
	f.pol.PutTorrent(infoHash(id), tr)
	return tr
}

// req builds a well-formed announce of user on torrent.
func req(user, torrent uint64, pid, ip string, left uint64) *core.Request {
	ih := infoHash(torrent)
	return &core.Request{
		Passkey: passkey(user), InfoHash: ih[:], PeerID: peerID(pid),
		Addr: netip.MustParseAddr(ip), Port: 51413, Left: left, NumWant: -1,
		UserAgent: "qBittorrent/4.6.5", Key: []byte("abcd1234"),
		ParamOrder: []string{"info_hash", "peer_id", "port"},
	}
}

func (f *fixture) announce(r *core.Request) (*core.Answer, *events.Announce) {
	f.t.Helper()
	ans := &core.Answer{}
	f.core.Announce(r, ans)
	return ans, f.sink.last(f.t)
}

func (f *fixture) mustAccept(r *core.Request) (*core.Answer, *events.Announce) {
	f.t.Helper()
	ans, ev := f.announce(r)
	if ans.Failure != "" || ev.Result != events.Result_RESULT_ACCEPTED {
		f.t.Fatalf("announce refused: %q (%v)", ans.Failure, ev.Refusal)
	}
	return ans, ev
}

func (f *fixture) mustRefuse(r *core.Request, code events.Refusal) string {
	f.t.Helper()
	ans, ev := f.announce(r)
	if ans.Failure == "" || ev.Result != events.Result_RESULT_REFUSED || ev.Refusal != code || ev.RefusalMessage != ans.Failure {
		f.t.Fatalf("got failure %q result %v refusal %v, want refusal %v", ans.Failure, ev.Result, ev.Refusal, code)
	}
	return ans.Failure
}

type atomicCounter struct{ n atomic.Uint64 }

func (c *atomicCounter) add() uint64 { return c.n.Add(1) }
