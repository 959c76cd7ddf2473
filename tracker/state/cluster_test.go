package state_test

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ratioguard/ratioguard/internal/testenv"
	"github.com/ratioguard/ratioguard/tracker"
	"github.com/ratioguard/ratioguard/tracker/admin"
	"github.com/ratioguard/ratioguard/tracker/bencode"
	"github.com/ratioguard/ratioguard/tracker/core"
	"github.com/ratioguard/ratioguard/tracker/frontend"
	"github.com/ratioguard/ratioguard/tracker/state"
	"github.com/ratioguard/ratioguard/tracker/stream"
)

// node is one tracker instance serving HTTP on loopback, wired as
// ratioguard tracker wires it: producer, keeper (restore, follower).
type node struct {
	base     string
	keeper   *state.Keeper
	producer *stream.Producer
}

type cluster struct {
	pg    testenv.PG
	k     testenv.KafkaTopic
	nodes []*node
}

func startCluster(t *testing.T, n int) *cluster {
	t.Helper()
	cl := &cluster{pg: testenv.Postgres(t), k: kafkaTopic(t)}
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	for i := range n {
		name := fmt.Sprintf("tracker%d", i)
		log := testLog(t).With("instance", name)
		keeper, err := state.Open(state.Config{Dir: filepath.Join(dir, name, "state"), Brokers: cl.k.Brokers, Topic: cl.k.Topic,
			SpoolDir: filepath.Join(dir, name, "spool"), Window: 2 * interval, FollowWait: 20 * time.Millisecond}, log)
		if err != nil {
			t.Fatal(err)
		}
		reg := prometheus.NewRegistry()
		producer, err := stream.New(ctx, stream.Config{Brokers: cl.k.Brokers, Topic: cl.k.Topic,
			SpoolDir: filepath.Join(dir, name, "spool"), BatchTimeout: time.Millisecond}, reg, log)
		if err != nil {
			t.Fatal(err)
		}
		cfg := tracker.Config{
			Core:     core.Config{Interval: interval, MinInterval: time.Second, MaxIPs: 3, Epoch: keeper.Epoch()},
			Frontend: frontend.Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}},
			Restore: func(ctx context.Context, c *core.Core) error {
				return keeper.Start(ctx, c, cl.pg.Pool, producer.Settle)
			},
		}
		srv, err := tracker.New(cfg, cl.pg.Pool, producer, reg, log)
		if err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		served := make(chan error, 1)
		go func() { served <- srv.Serve(ctx, ln) }()
		nd := &node{base: "http://" + ln.Addr().String(), keeper: keeper, producer: producer}
		cl.nodes = append(cl.nodes, nd)
		t.Cleanup(func() {
			cancel()
			if err := <-served; err != nil {
				t.Errorf("%s: %v", name, err)
			}
			_ = producer.Close(context.Background())
			if err := keeper.Stop(); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		})
	}
	for _, nd := range cl.nodes {
		waitFor(t, "the instance to answer", func() bool {
			resp, err := http.Get(nd.base + "/x/announce")
			if err == nil {
				resp.Body.Close()
			}
			return err == nil
		})
	}
	return cl
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// torrent registers a torrent and returns its info_hash.
func (cl *cluster) torrent(t *testing.T, name string) []byte {
	t.Helper()
	file, err := bencode.Marshal(map[string]any{"announce": "http://127.0.0.1/announce", "info": map[string]any{
		"name": name, "piece length": 16384, "pieces": string(make([]byte, 20)), "length": 1000, "private": 1}})
	if err != nil {
		t.Fatal(err)
	}
	tor, err := admin.AddTorrent(context.Background(), cl.pg.Pool, file, "", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	ih, err := hex.DecodeString(tor.InfoHash)
	if err != nil {
		t.Fatal(err)
	}
	return ih
}

type announce struct {
	passkey  string
	ih       []byte
	peer     string
	ip       string
	up, down uint64
	event    string
}

// send announces a on node i and returns the failure reason ("" accepted).
func (cl *cluster) send(t *testing.T, i int, a announce) string {
	t.Helper()
	req, err := announceRequest(cl.nodes[i].base, a)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := doAnnounce(req)
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

// announceRequest is a's announce to the tracker at base, from a's address
// (X-Forwarded-For: the tests' trackers trust loopback).
func announceRequest(base string, a announce) (*http.Request, error) {
	q := url.Values{"info_hash": {string(a.ih)}, "peer_id": {a.peer}, "port": {"51413"},
		"uploaded": {fmt.Sprint(a.up)}, "downloaded": {fmt.Sprint(a.down)}, "left": {"1000"}, "compact": {"1"}}
	if a.event != "" {
		q.Set("event", a.event)
	}
	req, err := http.NewRequest(http.MethodGet, base+"/"+a.passkey+"/announce?"+q.Encode(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", "qBittorrent/4.6.5")
	req.Header.Set("X-Forwarded-For", a.ip)
	return req, nil
}

// doAnnounce sends req and returns the failure reason ("" accepted); an
// error means no answer.
func doAnnounce(req *http.Request) (string, error) {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	if _, msg, ok := strings.Cut(string(body), "14:failure reason"); ok {
		return msg, nil
	}
	return "", nil
}

// caughtUp waits until node i learnt every event the instances answered
// so far: the producers settle, then i's follower reaches the topic's end.
func (cl *cluster) caughtUp(t *testing.T, i int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, nd := range cl.nodes {
		if err := nd.producer.Settle(ctx); err != nil {
			t.Fatal(err)
		}
	}
	kc, err := kgo.NewClient(kgo.SeedBrokers(cl.k.Brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	ends, err := kadm.NewClient(kc).ListEndOffsets(ctx, cl.k.Topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, fmt.Sprintf("instance %d to reach the end of the topic", i), func() bool {
		pos := cl.nodes[i].keeper.Positions()
		behind := false
		ends.Each(func(o kadm.ListedOffset) { behind = behind || pos[o.Partition] < o.Offset })
		return !behind
	})
}

// TestThreeInstancesShareMembersAndSessions: three trackers on loopback on
// one topic of the real Kafka. A member active from three locations, each
// on another instance, is refused a fourth location on any of them once
// it learnt the others' announces; an address that sent the limit of
// unknown passkeys spread over the instances is blocked by each; a member
// whose class has two download slots, leeching on two instances, is
// refused a third torrent on each, and her stop on one frees the slot on
// the others; a session that alternates between the instances is credited
// exactly what its client reported, once.
func TestThreeInstancesShareMembersAndSessions(t *testing.T) {
	cl := startCluster(t, 3)
	ctx := context.Background()
	alice, err := admin.AddUser(ctx, cl.pg.Pool, "alice", "", "http://x")
	if err != nil {
		t.Fatal(err)
	}
	bob, err := admin.AddUser(ctx, cl.pg.Pool, "bob", "", "http://x")
	if err != nil {
		t.Fatal(err)
	}
	// carol's class has two download slots (a UNIT3D group's download_slots).
	if _, err := cl.pg.Pool.Exec(ctx, "INSERT INTO member_classes (class, download_slots) VALUES ('two-slots', 2)"); err != nil {
		t.Fatal(err)
	}
	carol, err := admin.AddUser(ctx, cl.pg.Pool, "carol", "two-slots", "http://x")
	if err != nil {
		t.Fatal(err)
	}
	var ihs [][]byte
	for i := range 4 {
		ihs = append(ihs, cl.torrent(t, fmt.Sprintf("t%d", i)))
	}
	for i := range cl.nodes {
		waitFor(t, "the policy to know the members and torrents", func() bool {
			return cl.send(t, i, announce{passkey: alice.Passkey, ih: ihs[3], peer: "-qB4650-probe0000000", ip: "10.9.9.9", event: "stopped"}) == "" &&
				cl.send(t, i, announce{passkey: bob.Passkey, ih: ihs[3], peer: "-qB4650-probe0000000", ip: "10.9.9.9", event: "stopped"}) == "" &&
				cl.send(t, i, announce{passkey: carol.Passkey, ih: ihs[3], peer: "-qB4650-probe0000000", ip: "10.9.9.9", event: "stopped"}) == ""
		})
	}
	// Three locations, one per instance; each instance learns the two others'.
	for i := range 3 {
		a := announce{passkey: alice.Passkey, ih: ihs[i], peer: fmt.Sprintf("-qB4650-loc%09d", i), ip: fmt.Sprintf("10.0.0.%d", i+1), event: "started"}
		if msg := cl.send(t, i, a); msg != "" {
			t.Fatalf("location %d refused: %s", i+1, msg)
		}
	}
	for i := range 3 {
		cl.caughtUp(t, i)
	}
	for i := range 3 {
		a := announce{passkey: alice.Passkey, ih: ihs[3], peer: fmt.Sprintf("-qB4650-four%08d", i), ip: "10.0.0.4", event: "started"}
		if msg := cl.send(t, i, a); !strings.Contains(msg, "too many locations") {
			t.Errorf("instance %d: fourth location answered %q, want a too-many-locations refusal", i, msg)
		}
	}

	// Download slots: carol leeches on instances 0 and 1; once they
	// learnt each other's, a third torrent is refused on every instance;
	// her stop on instance 0 frees a slot everywhere.
	for i := range 2 {
		if msg := cl.send(t, i, announce{passkey: carol.Passkey, ih: ihs[i], peer: "-qB4650-carol0000000", ip: "10.3.3.3", event: "started"}); msg != "" {
			t.Fatalf("carol's leech %d on instance %d refused: %s", i+1, i, msg)
		}
	}
	third := func(i int) string {
		t.Helper()
		return cl.send(t, i, announce{passkey: carol.Passkey, ih: ihs[2], peer: fmt.Sprintf("-qB4650-carolthird_%d", i), ip: "10.3.3.3", event: "started"})
	}
	for i := range 3 {
		cl.caughtUp(t, i)
		if msg := third(i); !strings.Contains(msg, "Download slot limit reached") {
			t.Errorf("instance %d: carol's third leech answered %q, want the download-slot refusal", i, msg)
		}
	}
	if msg := cl.send(t, 0, announce{passkey: carol.Passkey, ih: ihs[0], peer: "-qB4650-carol0000000", ip: "10.3.3.3", event: "stopped"}); msg != "" {
		t.Fatalf("carol's stop refused: %s", msg)
	}
	cl.caughtUp(t, 2)
	if msg := third(2); msg != "" {
		t.Errorf("instance 2: carol's leech after her stop on instance 0 answered %q, want accepted", msg)
	}

	// Unknown passkeys from one address, spread over the instances up to
	// the limit (10 a minute): every instance then blocks the address.
	for n := range 10 {
		guess := announce{passkey: fmt.Sprintf("%032x", 1<<40+n), ih: ihs[0], peer: "-qB4650-guesser00000", ip: "192.0.2.7"}
		if msg := cl.send(t, n%3, guess); !strings.Contains(msg, "unknown passkey") {
			t.Fatalf("guess %d answered %q, want unknown passkey", n, msg)
		}
	}
	for i := range 3 {
		cl.caughtUp(t, i)
		guess := announce{passkey: fmt.Sprintf("%032x", 1<<41), ih: ihs[0], peer: "-qB4650-guesser00000", ip: "192.0.2.7"}
		if msg := cl.send(t, i, guess); !strings.Contains(msg, "too many announces with an unknown passkey") {
			t.Errorf("instance %d: the 11th unknown passkey answered %q, want the rate-limit refusal", i, msg)
		}
	}

	// One session moving from instance to instance.
	var up, down uint64 = 5000, 100
	first := [2]uint64{up, down}
	for step := range 9 {
		i := step % 3
		cl.caughtUp(t, i)
		ev := ""
		if step == 0 {
			ev = "started"
		}
		if msg := cl.send(t, i, announce{passkey: bob.Passkey, ih: ihs[0], peer: "-qB4650-movingsessio", ip: "10.1.1.1", up: up, down: down, event: ev}); msg != "" {
			t.Fatalf("step %d on instance %d refused: %s", step, i, msg)
		}
		up, down = up+uint64(1000*(step+1)), down+uint64(10*(step+1))
	}
	up, down = up-9000, down-90 // the last announce's counters
	ctxR, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	seen := map[string]bool{}
	var gotUp, gotDown uint64
	var events int
	for _, ev := range cl.k.Announces(ctxR, t) {
		if ev.GetUserId() != uint64(bob.ID) || string(ev.GetPeerId()) != "-qB4650-movingsessio" || seen[string(ev.GetEventId())] {
			continue
		}
		seen[string(ev.GetEventId())] = true
		events++
		gotUp += ev.GetDeltaUploaded()
		gotDown += ev.GetDeltaDownloaded()
	}
	if events != 9 || gotUp != up-first[0] || gotDown != down-first[1] {
		t.Fatalf("the moving session: %d events crediting up %d down %d; its client reported %d and %d over 9 announces",
			events, gotUp, gotDown, up-first[0], down-first[1])
	}
}
