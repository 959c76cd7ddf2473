package tracker

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ratioguard/ratioguard/internal/testenv"
	"github.com/ratioguard/ratioguard/schemas/events"
	"github.com/ratioguard/ratioguard/tracker/admin"
	"github.com/ratioguard/ratioguard/tracker/core"
	"github.com/ratioguard/ratioguard/tracker/stream"
)

// TestEndToEndWithRealClients: aria2c seeds (member A); transmission-cli and
// then aria2c download (member B) through the tracker on loopback, the
// tracker streaming to a fresh topic on the real Kafka broker through
// tracker/stream. The file arrives intact, and the events read back from
// Kafka (deduplicated by event id) are one per announce answered and account
// for the bytes each side's clients reported, to the right members.
func TestEndToEndWithRealClients(t *testing.T) {
	pg := testenv.Postgres(t)
	k := testenv.Kafka(t, 4)
	needTools(t, "mktorrent", "aria2c", "transmission-cli")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	for _, d := range []string{"seed", "dl-transmission", "dl-aria2", "tr-config"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	const size = 3<<20 + 12345
	payload := make([]byte, size)
	_, _ = rand.Read(payload)
	if err := os.WriteFile(filepath.Join(dir, "seed", "payload.bin"), payload, 0o644); err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256(payload)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	userA, err := admin.AddUser(ctx, pg.Pool, "alice", "", base)
	if err != nil {
		t.Fatal(err)
	}
	userB, err := admin.AddUser(ctx, pg.Pool, "bob", "", base)
	if err != nil {
		t.Fatal(err)
	}
	torrentA := filepath.Join(dir, "a.torrent")
	if out, err := exec.Command("mktorrent", "-p", "-l", "16", "-a", userA.AnnounceURL, "-o", torrentA, filepath.Join(dir, "seed", "payload.bin")).CombinedOutput(); err != nil {
		t.Fatalf("mktorrent: %v\n%s", err, out)
	}
	fileA, _ := os.ReadFile(torrentA)
	torrentB := filepath.Join(dir, "b.torrent")
	if err := os.WriteFile(torrentB, withAnnounce(t, fileA, userB.AnnounceURL), 0o644); err != nil {
		t.Fatal(err)
	}
	reg, err := admin.AddTorrent(ctx, pg.Pool, fileA, "", nil, userA.ID)
	if err != nil {
		t.Fatal(err)
	}
	if reg.Size != size || !reg.Private {
		t.Fatalf("registered %+v", reg)
	}

	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	metrics := prometheus.NewRegistry()
	producer, err := stream.New(ctx, stream.Config{Brokers: k.Brokers, Topic: k.Topic, SpoolDir: filepath.Join(dir, "spool")},
		metrics, log.With("component", "stream"))
	if err != nil {
		t.Fatal(err)
	}
	rec := newRecorder()
	srv, err := New(Config{Core: core.Config{Interval: 5 * time.Second, MinInterval: time.Second}, Wrap: rec.wrap},
		pg.Pool, producer, metrics, log)
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	// Stops the tracker (no announce is answered after it) and then the
	// producer, which writes its queue to Kafka.
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
		// Anything the producer spooled (a failed write) is replayed while
		// it runs: give the replay a bounded time before closing.
		waitFor(t, "the producer's spool to drain to Kafka", 20*time.Second, func() bool {
			st := producer.Stats()
			return st.SpoolRecords == 0
		})
		cctx, ccancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer ccancel()
		if err := producer.Close(cctx); err != nil {
			t.Errorf("close the producer: %v", err)
		}
	}
	defer stop()
	readyz := serveOps(ctx, t, srv, log) + "/readyz"
	waitFor(t, "/readyz to answer 200", 15*time.Second, func() bool { return httpStatus(readyz) == http.StatusOK })

	aria2 := func(extra ...string) []string {
		return append([]string{"aria2c", "--enable-dht=false", "--enable-dht6=false", "--bt-enable-lpd=false",
			"--enable-peer-exchange=false", "--disable-ipv6=true", "--file-allocation=none", "--console-log-level=notice",
			"--summary-interval=0", "--bt-stop-timeout=120", "--bt-max-peers=10"}, extra...)
	}
	seeder := startClient(t, "aria2-seeder", dir, aria2("--dir="+filepath.Join(dir, "seed"), "--check-integrity=true",
		"--seed-ratio=0.0", "--listen-port="+strconv.Itoa(freePort(t)), torrentA)...)

	tr := startClient(t, "transmission", dir, "transmission-cli", "--no-portmap", "-g", filepath.Join(dir, "tr-config"),
		"-w", filepath.Join(dir, "dl-transmission"), "-p", strconv.Itoa(freePort(t)), "-er", torrentB)
	waitFile(t, filepath.Join(dir, "dl-transmission", "payload.bin"), want, 90*time.Second)
	// Let transmission tell the tracker it has finished before stopping it.
	waitFor(t, "transmission's announce with left=0", 30*time.Second, func() bool { return rec.sawFinished(userB.Passkey, "-TR") })
	tr.stop(t, syscall.SIGINT, 20*time.Second)

	dl := startClient(t, "aria2-leecher", dir, aria2("--dir="+filepath.Join(dir, "dl-aria2"), "--seed-time=0",
		"--listen-port="+strconv.Itoa(freePort(t)), torrentB)...)
	dl.wait(t, 90*time.Second)
	if got, ok := fileHash(filepath.Join(dir, "dl-aria2", "payload.bin")); !ok || got != want {
		t.Fatal("aria2 download is not intact")
	}
	seeder.stop(t, syscall.SIGINT, 20*time.Second) // aria2: SIGINT is the graceful stop (stopped announce)
	stop()

	st := producer.Stats()
	evs, dups := readTopicEvents(t, k.Brokers, k.Topic)
	up, down, sessions, answered := rec.reported()
	t.Logf("%s: %d announces answered; producer %+v; %d distinct events on the topic, %d duplicates%s",
		k.Describe(), answered, st, len(evs), dups, rec.describe())
	if st.Dropped != 0 || st.SpoolRecords != 0 || st.Published != uint64(answered) {
		t.Fatalf("producer stats %+v: want %d published, none dropped or left in the spool", st, answered)
	}
	if len(evs) != answered {
		t.Fatalf("%d distinct events on Kafka, want one per announce answered (%d)", len(evs), answered)
	}
	checkAccounting(t, evs, reg.ID, size, map[uint64]admin.User{uint64(userA.ID): userA, uint64(userB.ID): userB},
		up, down, sessions)
}

// checkAccounting checks the events read from Kafka against what the
// clients reported over HTTP: per member, the raw deltas add up to the
// bytes its clients reported, the sessions are the member's, each download
// is a snatch once, and member A uploaded (at least) both downloads.
func checkAccounting(t *testing.T, evs []consumedEvent, torrentID int64, size uint64, users map[uint64]admin.User,
	reportedUp, reportedDown map[string]uint64, reportedSessions map[string]int) {
	t.Helper()
	type total struct {
		up, down, credUp, credDown uint64
		snatches                   int
		peers                      map[string]bool
	}
	totals := map[uint64]*total{}
	seqs := map[uint64]bool{}
	for _, ce := range evs {
		ev := ce.ev
		if seqs[ev.Sequence] {
			t.Errorf("two different events with sequence %d", ev.Sequence)
		}
		seqs[ev.Sequence] = true
		if ev.Result != events.Result_RESULT_ACCEPTED {
			t.Errorf("announce refused: %v %q (peer %q)", ev.Refusal, ev.RefusalMessage, ev.PeerId)
		}
		if ev.TorrentId != uint64(torrentID) {
			t.Errorf("event for torrent %d, want %d", ev.TorrentId, torrentID)
		}
		if _, ok := users[ev.UserId]; !ok {
			t.Errorf("event for unexpected user %d", ev.UserId)
			continue
		}
		if !bytes.Equal(ce.key, binary.BigEndian.AppendUint64(nil, ev.UserId)) {
			t.Errorf("event of user %d has Kafka key %x", ev.UserId, ce.key)
		}
		tot := totals[ev.UserId]
		if tot == nil {
			tot = &total{peers: map[string]bool{}}
			totals[ev.UserId] = tot
		}
		tot.up += ev.DeltaUploaded
		tot.down += ev.DeltaDownloaded
		tot.credUp += ev.CreditedUploaded
		tot.credDown += ev.CreditedDownloaded
		tot.peers[string(ev.PeerId)] = true
		if ev.Snatch {
			tot.snatches++
		}
	}
	var a, b *total
	for id, u := range users {
		tot := totals[id]
		if tot == nil {
			t.Fatalf("no events for member %s", u.Name)
		}
		t.Logf("member %s (user %d): %d sessions, deltas up %d down %d; clients reported up %d down %d",
			u.Name, id, len(tot.peers), tot.up, tot.down, reportedUp[u.Passkey], reportedDown[u.Passkey])
		if tot.up != reportedUp[u.Passkey] || tot.down != reportedDown[u.Passkey] {
			t.Errorf("member %s: events account for up %d down %d, clients reported up %d down %d",
				u.Name, tot.up, tot.down, reportedUp[u.Passkey], reportedDown[u.Passkey])
		}
		if len(tot.peers) != reportedSessions[u.Passkey] {
			t.Errorf("member %s: %d sessions in the events, %d seen over HTTP", u.Name, len(tot.peers), reportedSessions[u.Passkey])
		}
		if tot.credUp != tot.up || tot.credDown != tot.down {
			t.Errorf("member %s: credited %d/%d != raw %d/%d without a promotion", u.Name, tot.credUp, tot.credDown, tot.up, tot.down)
		}
		if u.Name == "alice" {
			a = tot
		} else {
			b = tot
		}
	}
	clients := map[string]bool{}
	for p := range b.peers {
		clients[p[:3]] = true
	}
	if !clients["-TR"] || !clients["A2-"] {
		t.Errorf("member B's clients seen: %v, want transmission and aria2", clients)
	}
	if b.down < 2*size || b.snatches != 2 {
		t.Errorf("member B downloaded %d bytes (two downloads of %d) with %d snatches, want ≥ %d and 2", b.down, size, b.snatches, 2*size)
	}
	if a.up < 2*size || a.down != 0 || a.snatches != 0 {
		t.Errorf("member A (seeder) uploaded %d, downloaded %d, snatched %d; want ≥ %d, 0, 0", a.up, a.down, a.snatches, 2*size)
	}
}

func waitFor(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %v", what, within)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func httpStatus(url string) int {
	resp, err := http.Get(url)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}
