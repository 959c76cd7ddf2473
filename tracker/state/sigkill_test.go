package state_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ratioguard/ratioguard/internal/kafkaconn"
	"github.com/ratioguard/ratioguard/internal/testenv"
	"github.com/ratioguard/ratioguard/tracker/admin"
)

// TestSIGKILLUnderLoad runs the ratioguard binary named by RG_SIGKILL_BIN
// against the real Postgres and Kafka, with clients announcing without
// pause, and SIGKILLs it RG_SIGKILL_KILLS times (default 3), restarting it
// on the same directories each time; then every session announces once
// more and the tracker stops cleanly. Every member's credited total
// (distinct events on the topic) must equal what its clients reported
// between their first and last answered announces, exactly.
// With RG_SIGKILL_OUTAGE set, the test runs its own Kafka broker and kills
// it before the second kill, so that the tracker dies with events in its
// disk spool. scripts/sigkill-test.sh builds the binary and runs this; without
// RG_SIGKILL_BIN it is skipped (make test runs the in-process crash test,
// TestCrashAndCleanStopLoseNoCredit, instead).
func TestSIGKILLUnderLoad(t *testing.T) {
	bin := os.Getenv("RG_SIGKILL_BIN")
	if bin == "" {
		t.Skip("RG_SIGKILL_BIN not set: scripts/sigkill-test.sh runs this test")
	}
	kills := envInt(t, "RG_SIGKILL_KILLS", 3)
	members := envInt(t, "RG_SIGKILL_MEMBERS", 200)
	perMember := envInt(t, "RG_SIGKILL_SESSIONS", 5)
	between := time.Duration(envInt(t, "RG_SIGKILL_EVERY_MS", 3000)) * time.Millisecond

	// RG_SIGKILL_OUTAGE: a private broker, down through the second kill
	// (the tracker spools; it is killed with events in its spool).
	var broker *testenv.KafkaBroker
	cl := &cluster{pg: testenv.Postgres(t)}
	if os.Getenv("RG_SIGKILL_OUTAGE") != "" {
		broker = testenv.StartKafkaBroker(t)
		topic := testenv.UniqueName("rgtest")
		if err := kafkaconn.EnsureTopic(context.Background(), []string{broker.Addr}, topic, 3); err != nil {
			t.Fatal(err)
		}
		cl.k = warmedUp(t, testenv.KafkaTopic{Brokers: []string{broker.Addr}, Topic: topic})
	} else {
		cl.k = kafkaTopic(t)
	}
	ctx := context.Background()
	ihs := make([][]byte, 50)
	for i := range ihs {
		ihs[i] = cl.torrent(t, fmt.Sprintf("k%d", i))
	}
	var sessions []*httpSession
	for m := range members {
		u, err := admin.AddUser(ctx, cl.pg.Pool, fmt.Sprintf("m%d", m), "", "http://x")
		if err != nil {
			t.Fatal(err)
		}
		for s := range perMember {
			sessions = append(sessions, &httpSession{user: u.ID, passkey: u.Passkey, ih: ihs[(m*perMember+s)%len(ihs)],
				peer: fmt.Sprintf("-qB4650-%06d%06d", m, s), ip: fmt.Sprintf("10.%d.%d.1", m/250, m%250+1)})
		}
	}
	dir := t.TempDir()
	tr := &trackerProc{t: t, bin: bin, dir: dir, pgURL: cl.pg.URL, brokers: cl.k.Brokers[0], topic: cl.k.Topic}
	tr.start()
	defer tr.signal(syscall.SIGKILL)

	// Every session starts (its baseline) before the load; the starts
	// reach Kafka before the first kill (the producer's batch time is ms).
	for _, s := range sessions {
		for !s.announce(t, tr.base(), "started") {
			time.Sleep(10 * time.Millisecond)
		}
	}
	time.Sleep(time.Second)

	var stop atomic.Bool
	var answered, failed atomic.Int64
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 7))
			for !stop.Load() {
				s := sessions[rng.IntN(len(sessions))]
				s.mu.Lock()
				s.up += rng.Uint64N(1 << 22)
				s.down += rng.Uint64N(1 << 20)
				ok := s.announceLocked(t, tr.base(), "")
				s.mu.Unlock()
				if ok {
					answered.Add(1)
				} else {
					failed.Add(1)
					time.Sleep(5 * time.Millisecond)
				}
			}
		}()
	}
	for k := range kills {
		time.Sleep(between)
		if broker != nil && k == 1 {
			broker.Kill()
			t.Logf("Kafka killed after %d announces answered", answered.Load())
			time.Sleep(between)
		}
		before := answered.Load()
		tr.signal(syscall.SIGKILL)
		t.Logf("kill %d: SIGKILL after %d announces answered", k+1, before)
		if broker != nil && !broker.Running() {
			broker.Start() // the restore needs the log
			t.Log("Kafka started again")
		}
		tr.start()
	}
	time.Sleep(between)
	stop.Store(true)
	wg.Wait()
	for _, s := range sessions {
		s.up += 12345
		for !s.announce(t, tr.base(), "") {
			time.Sleep(10 * time.Millisecond)
		}
	}
	tr.signal(syscall.SIGTERM)
	t.Logf("%d announces answered under load, %d failed (tracker down), %d kills", answered.Load(), failed.Load(), kills)

	want := map[uint64]uint64{}
	wantDown := map[uint64]uint64{}
	for _, s := range sessions {
		want[uint64(s.user)] += s.lastUp - s.firstUp
		wantDown[uint64(s.user)] += s.lastDown - s.firstDown
	}
	if log, err := os.ReadFile(filepath.Join(dir, "tracker.log")); err == nil {
		for _, line := range strings.Split(string(log), "\n") {
			if strings.Contains(line, "state: restored") || strings.Contains(line, "snapshot written on stop") {
				t.Log(line)
			}
		}
	}
	w := &world{k: cl.k}
	up, down, distinct := credited(t, w)
	// Every answered announce is an event, except those a SIGKILL caught in
	// the producer's memory (and the topic's warm-up event is one more).
	total := int64(2*len(sessions)) + answered.Load()
	t.Logf("%d announces answered, %d distinct events on the topic: %d answered announces lost at the kills, their bytes credited by the next ones",
		total, distinct-1, total-int64(distinct-1))
	bad := 0
	for u, wu := range want {
		if up[u] != wu || down[u] != wantDown[u] {
			bad++
			if bad <= 10 {
				t.Errorf("member %d credited up %d down %d; clients reported %d and %d", u, up[u], down[u], wu, wantDown[u])
			}
		}
	}
	if bad > 0 {
		t.Fatalf("%d of %d members credited other than reported", bad, len(want))
	}
	t.Logf("all %d members credited exactly what their %d sessions reported", len(want), len(sessions))
}

func envInt(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		t.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}

// httpSession is a client's session: counters that only grow, and the
// counters of its first and last answered announces.
type httpSession struct {
	mu                 sync.Mutex
	user               int64
	passkey, peer, ip  string
	ih                 []byte
	up, down           uint64
	started            bool
	firstUp, firstDown uint64
	lastUp, lastDown   uint64
}

func (s *httpSession) announce(t *testing.T, base, event string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.announceLocked(t, base, event)
}

// announceLocked reports whether the tracker answered (a refusal fails
// the test: the load never exceeds a cap).
func (s *httpSession) announceLocked(t *testing.T, base, event string) bool {
	req, err := announceRequest(base, announce{passkey: s.passkey, ih: s.ih, peer: s.peer, ip: s.ip, up: s.up, down: s.down, event: event})
	if err != nil {
		t.Error(err)
		return false
	}
	msg, err := doAnnounce(req)
	if err != nil {
		return false
	}
	if msg != "" {
		t.Errorf("session %s refused: %s", s.peer, msg)
		return false
	}
	if !s.started {
		s.started, s.firstUp, s.firstDown = true, s.up, s.down
	}
	s.lastUp, s.lastDown = s.up, s.down
	return true
}

// trackerProc is the ratioguard tracker as a child process.
type trackerProc struct {
	t                               *testing.T
	bin, dir, pgURL, brokers, topic string
	cmd                             *exec.Cmd
	addr                            string
	mu                              sync.Mutex
}

func (p *trackerProc) base() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return "http://" + p.addr
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func (p *trackerProc) start() {
	p.t.Helper()
	addr := freeAddr(p.t)
	cmd := exec.Command(p.bin, "tracker", "--addr", addr, "--admin-addr", freeAddr(p.t),
		"--postgres-url", p.pgURL, "--kafka-brokers", p.brokers, "--topic", p.topic,
		"--spool-dir", filepath.Join(p.dir, "spool"), "--state-dir", filepath.Join(p.dir, "state"),
		"--snapshot-every", "1s", "--interval", "60s", "--min-interval", "1s", "--jitter", "0",
		"--max-ips", "3", "--trusted-proxies", "127.0.0.0/8")
	logf, err := os.OpenFile(filepath.Join(p.dir, "tracker.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o640)
	if err != nil {
		p.t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	logf.Close()
	p.mu.Lock()
	p.cmd, p.addr = cmd, addr
	p.mu.Unlock()
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/x/announce")
		if err == nil {
			resp.Body.Close()
			return
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(p.dir, "tracker.log"))
			p.t.Fatalf("tracker did not start: %v\n%s", err, log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (p *trackerProc) signal(sig syscall.Signal) {
	p.mu.Lock()
	cmd := p.cmd
	p.mu.Unlock()
	if cmd == nil || cmd.ProcessState != nil {
		return
	}
	_ = cmd.Process.Signal(sig)
	_ = cmd.Wait()
}
