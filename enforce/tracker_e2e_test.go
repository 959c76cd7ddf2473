package enforce_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ratioguard/ratioguard/schemas/events"
	"github.com/ratioguard/ratioguard/tracker/bencode"
	"github.com/ratioguard/ratioguard/tracker/core"
	"github.com/ratioguard/ratioguard/tracker/frontend"
	"github.com/ratioguard/ratioguard/tracker/policy"
)

// liveTracker is the real tracker stack in-process: the policy cache kept in
// step with Postgres by LISTEN/NOTIFY, the announce core and the HTTP
// frontend on a real socket.
type liveTracker struct {
	f   *fixture
	url string
}

func startTracker(f *fixture) *liveTracker {
	f.t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cache := policy.NewCache()
	syncer := policy.NewSyncer(f.pg.Pool, cache, policy.SyncConfig{}, log)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = syncer.Run(ctx) }()
	f.t.Cleanup(func() { cancel(); <-done })
	c := core.New(core.Config{Interval: time.Minute}, cache, discardSink{}, core.SystemClock{})
	reg := prometheus.NewRegistry()
	fe, err := frontend.New(c, frontend.Config{}, reg, log)
	if err != nil {
		f.t.Fatal(err)
	}
	srv := httptest.NewServer(fe.Handler())
	f.t.Cleanup(srv.Close)
	deadline := time.Now().Add(10 * time.Second)
	for syncer.Ready() != nil {
		if time.Now().After(deadline) {
			f.t.Fatal("tracker policy never loaded from postgres")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return &liveTracker{f: f, url: srv.URL}
}

type discardSink struct{}

func (discardSink) Publish(*events.Announce) {}

// announce sends a real HTTP announce and returns the failure reason ("" if accepted).
func (lt *liveTracker) announce(passkey string, infoHash []byte, peerID string, left int64) string {
	lt.f.t.Helper()
	q := "info_hash=" + url.QueryEscape(string(infoHash)) + "&peer_id=" + url.QueryEscape(peerID) +
		fmt.Sprintf("&port=51413&uploaded=0&downloaded=0&left=%d&compact=1", left)
	req, err := http.NewRequestWithContext(lt.f.ctx, http.MethodGet, lt.url+"/"+passkey+"/announce?"+q, nil)
	if err != nil {
		lt.f.t.Fatal(err)
	}
	req.Header.Set("User-Agent", "qBittorrent/4.6.5")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		lt.f.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		lt.f.t.Fatalf("announce: HTTP %d %q", resp.StatusCode, body)
	}
	v, err := bencode.Decode(body)
	if err != nil {
		lt.f.t.Fatalf("announce answer %q: %v", body, err)
	}
	d, _ := v.(map[string]any)
	reason, _ := d["failure reason"].(string)
	return reason
}

// within2s retries the announce until it answers as wanted, for at most 2 s.
func (lt *liveTracker) within2s(what string, try func() string, ok func(string) bool) string {
	lt.f.t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		got := try()
		if ok(got) {
			return got
		}
		if time.Now().After(deadline) {
			lt.f.t.Fatalf("%s: tracker still answers %q after 2 s", what, got)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func (f *fixture) torrentHash(id int64) []byte {
	f.t.Helper()
	var h []byte
	f.scalar(&h, `SELECT info_hash FROM torrents WHERE id = $1`, id)
	return h
}

func peerID(tag string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return fmt.Sprintf("-qB4650-%s%x", tag, b)[:20]
}

// The tracker obeys: a member below the requirement goes through the watch
// (clock advanced), gets leeching disabled, a real announce with left>0 is
// refused with the reason while a seeding announce is accepted, and once the
// ratio is fixed leeching comes back, each within 2 s of the enforce pass.
func TestTrackerObeysEnforcement(t *testing.T) {
	f := newFixture(t)
	u := belowRequirement(f, "olga")
	key := f.member(u).Passkey
	leechHash := f.torrentHash(f.torrent("olga-leech", 8*gib))
	seedHash := f.torrentHash(f.torrent("olga-seed", 8*gib))
	lt := startTracker(f)

	// One client session: retries while waiting for NOTIFY must not pile up
	// peers and run into the per-torrent peer cap.
	leechPeer := peerID("L")
	leech := func() string { return lt.announce(key, leechHash, leechPeer, 4*gib) }
	seed := func() string { return lt.announce(key, seedHash, "-qB4650-seedseedseed", 0) }
	if r := leech(); r != "" {
		t.Fatalf("leech before enforcement refused: %q", r)
	}

	f.run() // on watch: still allowed
	f.clock.Advance(14*24*time.Hour + time.Minute)
	f.run() // watch expired: leeching disabled
	if m := f.member(u); m.CanLeech {
		t.Fatalf("after watch expiry: %+v", m)
	}
	reason := lt.within2s("leech after disable", leech, func(r string) bool { return r != "" })
	if reason != "leeching is disabled on your account: you may still seed, but not download" {
		t.Fatalf("refusal reason %q", reason)
	}
	if r := seed(); r != "" {
		t.Fatalf("seeding refused while leeching is disabled: %q", r)
	}

	f.totals(u, 10*gib, 25*gib) // ratio 0.4 ≥ 0.30
	f.clock.Advance(time.Hour)
	f.run()
	lt.within2s("leech after recovery", leech, func(r string) bool { return r == "" })
}
