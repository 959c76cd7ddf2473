package tracker

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ratioguard/ratioguard/internal/testenv"
	"github.com/ratioguard/ratioguard/schemas/events"
	"github.com/ratioguard/ratioguard/tracker/admin"
	"github.com/ratioguard/ratioguard/tracker/bencode"
	"github.com/ratioguard/ratioguard/tracker/core"
)

// memSink keeps every event (the stream producer's place in production).
type memSink struct {
	mu  sync.Mutex
	evs []*events.Announce
}

func (s *memSink) Publish(ev *events.Announce) { s.mu.Lock(); s.evs = append(s.evs, ev); s.mu.Unlock() }
func (s *memSink) all() []*events.Announce {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*events.Announce(nil), s.evs...)
}

// needTools skips (laptop) or fails (CI) when a client is missing.
func needTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is not installed (apt-get install aria2 transmission-cli mktorrent)", tool)
			}
			t.Skipf("%s not installed", tool)
		}
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// client is a BitTorrent client process, killed at cleanup.
type client struct {
	name string
	cmd  *exec.Cmd
	done chan struct{} // closed when the process exited; err is then set
	err  error
}

func startClient(t *testing.T, name string, dir string, args ...string) *client {
	t.Helper()
	logf, err := os.Create(filepath.Join(dir, name+".log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(os.Environ(), "HOME="+dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	c := &client{name: name, cmd: cmd, done: make(chan struct{})}
	go func() { c.err = cmd.Wait(); logf.Close(); close(c.done) }()
	t.Cleanup(func() {
		select {
		case <-c.done:
		default:
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-c.done
		}
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("--- %s output (last 3000 bytes) ---\n%s", name, tail(b, 3000))
		}
	})
	return c
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// stop asks the client to quit (it sends its "stopped" announce) and waits.
func (c *client) stop(t *testing.T, sig syscall.Signal, within time.Duration) {
	t.Helper()
	_ = c.cmd.Process.Signal(sig)
	select {
	case <-c.done:
	case <-time.After(within):
		_ = syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
		<-c.done
		t.Logf("%s did not stop within %v after %v: killed", c.name, within, sig)
	}
}

func (c *client) wait(t *testing.T, within time.Duration) {
	t.Helper()
	select {
	case <-c.done:
		if c.err != nil {
			t.Fatalf("%s exited: %v", c.name, c.err)
		}
	case <-time.After(within):
		t.Fatalf("%s did not finish within %v", c.name, within)
	}
}

func fileHash(path string) ([32]byte, bool) {
	f, err := os.Open(path)
	if err != nil {
		return [32]byte{}, false
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return [32]byte{}, false
	}
	return [32]byte(h.Sum(nil)), true
}

func waitFile(t *testing.T, path string, want [32]byte, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		if got, ok := fileHash(path); ok && got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not arrive intact within %v", path, within)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func waitEvent(t *testing.T, sink *memSink, what string, within time.Duration, match func(*events.Announce) bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		for _, ev := range sink.all() {
			if match(ev) {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %v", what, within)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// withAnnounce rewrites a .torrent for another member's announce URL; the
// info dictionary (and so the info_hash) is kept byte for byte.
func withAnnounce(t *testing.T, file []byte, url string) []byte {
	t.Helper()
	top, err := bencode.DictRaw(file)
	if err != nil {
		t.Fatal(err)
	}
	b := []byte{'d'}
	b = bencode.AppendString(b, "announce")
	b = bencode.AppendString(b, url)
	b = bencode.AppendString(b, "info")
	b = append(b, top["info"]...)
	return append(b, 'e')
}

// TestEndToEndWithRealClients: aria2c seeds (member A); transmission-cli and
// then aria2c download (member B) through the tracker on loopback. The file
// arrives intact and the events account for the bytes each side reported.
func TestEndToEndWithRealClients(t *testing.T) {
	pg := testenv.Postgres(t)
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

	sink := &memSink{}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	srv, err := New(Config{Core: core.Config{Interval: 5 * time.Second, MinInterval: time.Second}}, pg.Pool, sink, prometheus.NewRegistry(), log)
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	defer func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()

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
	waitEvent(t, sink, "transmission's announce with left=0", 30*time.Second, func(ev *events.Announce) bool {
		return ev.UserId == uint64(userB.ID) && bytes.HasPrefix(ev.PeerId, []byte("-TR")) && ev.Left == 0
	})
	tr.stop(t, syscall.SIGINT, 20*time.Second)

	dl := startClient(t, "aria2-leecher", dir, aria2("--dir="+filepath.Join(dir, "dl-aria2"), "--seed-time=0",
		"--listen-port="+strconv.Itoa(freePort(t)), torrentB)...)
	dl.wait(t, 90*time.Second)
	if got, ok := fileHash(filepath.Join(dir, "dl-aria2", "payload.bin")); !ok || got != want {
		t.Fatal("aria2 download is not intact")
	}
	seeder.stop(t, syscall.SIGINT, 20*time.Second) // aria2: SIGINT is the graceful stop (stopped announce)

	// Accounting: per session, the deltas add up to what the client
	// reported between its first and last announce; the downloader's sessions
	// belong to B and downloaded the whole file; A's uploads cover both.
	type session struct {
		user                       uint64
		first, last                *events.Announce
		sumUp, sumDown, sumCredUp  uint64
		snatches, accepted, resets int
	}
	sessions := map[string]*session{}
	var order []string
	for _, ev := range sink.all() {
		if err := events.Validate(ev); err != nil {
			t.Fatalf("invalid event: %v", err)
		}
		if ev.Result != events.Result_RESULT_ACCEPTED {
			t.Fatalf("announce refused: %v %q (peer %q)", ev.Refusal, ev.RefusalMessage, ev.PeerId)
		}
		key := fmt.Sprintf("%d/%x", ev.UserId, ev.PeerId)
		s := sessions[key]
		if s == nil {
			s = &session{user: ev.UserId, first: ev}
			sessions[key] = s
			order = append(order, key)
		}
		s.last = ev
		s.accepted++
		s.sumUp += ev.DeltaUploaded
		s.sumDown += ev.DeltaDownloaded
		s.sumCredUp += ev.CreditedUploaded
		if ev.Snatch {
			s.snatches++
		}
		if ev.CounterReset {
			s.resets++
		}
		if ev.TorrentId != uint64(reg.ID) {
			t.Fatalf("event for torrent %d, want %d", ev.TorrentId, reg.ID)
		}
	}
	var aUploaded, bDownloaded uint64
	clients := map[string]bool{}
	for _, key := range order {
		s := sessions[key]
		pid := string(s.first.PeerId[:3])
		t.Logf("session %s (%s…): %d announces, reported up %d→%d down %d→%d, deltas up %d down %d, snatches %d, last event %v",
			key, pid, s.accepted, s.first.Uploaded, s.last.Uploaded, s.first.Downloaded, s.last.Downloaded, s.sumUp, s.sumDown, s.snatches, s.last.Event)
		if s.resets == 0 && (s.sumUp != s.last.Uploaded-s.first.Uploaded || s.sumDown != s.last.Downloaded-s.first.Downloaded) {
			t.Errorf("session %s: deltas %d/%d do not add up to reported %d/%d", key, s.sumUp, s.sumDown,
				s.last.Uploaded-s.first.Uploaded, s.last.Downloaded-s.first.Downloaded)
		}
		if s.sumCredUp != s.sumUp {
			t.Errorf("session %s: credited upload %d != raw %d without promotion", key, s.sumCredUp, s.sumUp)
		}
		switch s.user {
		case uint64(userA.ID):
			if pid != "A2-" {
				t.Errorf("member A's session has peer id %q", s.first.PeerId)
			}
			aUploaded += s.sumUp
		case uint64(userB.ID):
			clients[pid] = true
			bDownloaded += s.sumDown
			if s.sumDown < size || s.snatches != 1 || s.last.Left != 0 {
				t.Errorf("downloader session %s: downloaded %d (size %d), snatches %d, left %d", key, s.sumDown, size, s.snatches, s.last.Left)
			}
		default:
			t.Errorf("event for unexpected user %d", s.user)
		}
	}
	if !clients["-TR"] || !clients["A2-"] {
		t.Errorf("member B's clients seen: %v, want transmission and aria2", clients)
	}
	if aUploaded < 2*size {
		t.Errorf("member A's events account for %d uploaded bytes, want at least %d (two full downloads)", aUploaded, 2*size)
	}
	t.Logf("A uploaded %d, B downloaded %d (file %d bytes)", aUploaded, bDownloaded, size)
}
