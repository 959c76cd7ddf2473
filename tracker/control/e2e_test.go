package control_test

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/ratioguard/ratioguard/schemas/events"
	"github.com/ratioguard/ratioguard/tracker/admin"
	"github.com/ratioguard/ratioguard/tracker/control"
	"github.com/ratioguard/ratioguard/tracker/control/controltest"
	"github.com/ratioguard/ratioguard/tracker/control/ocelot"
	"github.com/ratioguard/ratioguard/tracker/control/unit3d"
)

const (
	e2eSecret = "e2e-gazelle-secret-0123456789abc"
	e2eKey    = "e2e-unit3d-key-0123456789abcdefgh"
)

// Real clients on the announce URLs the sites' .torrent files carry, set
// up through the sites' control protocols: aria2 seeds on Gazelle's
// /PASSKEY/announce (member and torrent added by Gazelle's add_user and
// add_torrent), aria2 downloads on UNIT3D's /announce/PASSKEY (member put by
// UNIT3D, with a freeleech token), aria2 downloads on NexusPHP's
// /announce.php?passkey=PASSKEY. Both downloads arrive intact; every member's
// announces reach the core as that member; the token holder's download is
// credited 0 and the other leecher's in full.
func TestRealClientsOnSiteURLs(t *testing.T) {
	needClients(t)
	e := controltest.Start(t, func(r chi.Router, svc *control.Service) {
		ocelot.New(svc, ocelot.Config{SiteSecret: e2eSecret}, svc.Log()).Mount(r)
		h, err := unit3d.New(svc, e2eKey, svc.Log())
		if err != nil {
			t.Fatal(err)
		}
		h.Mount(r)
	})
	dir := t.TempDir()
	for _, d := range []string{"seed", "dl-unit3d", "dl-nexus"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	const size = 2<<20 + 4321
	want := writePayload(t, filepath.Join(dir, "seed", "payload.bin"), size)

	const (
		pkSeed    = "gazelleseedgazelleseedgazellesd1"
		pkUnit3d  = "Unit3dLeechUnit3dLeechUnit3dLch2"
		pkNexus   = "nexusleechnexusleechnexusleech03"
		siteTorID = 700
	)
	// One .torrent per announce URL form (the info dict, so the info_hash,
	// is the same: mktorrent writes the announce URL outside it).
	torrent := func(name, announce string) string { return mktorrent(t, dir, name, announce) }
	tSeed := torrent("gazelle", e.Announce+"/"+pkSeed+"/announce")
	tUnit3d := torrent("unit3d", e.Announce+"/announce/"+pkUnit3d)
	tNexus := torrent("nexus", e.Announce+"/announce.php?passkey="+pkNexus)
	ih := infoHash(t, tSeed)

	// The sites' control requests.
	gazelle := func(action string, kv ...string) { t.Helper(); ocelotUpdate(t, e, action, kv...) }
	gazelle("add_user", "passkey", pkSeed, "id", "1", "visible", "1")
	gazelle("add_user", "passkey", pkNexus, "id", "3", "visible", "1")
	gazelle("add_torrent", "info_hash", escape(ih[:]), "id", strconv.Itoa(siteTorID), "freetorrent", "0")
	unit3dPut(t, e, "users", map[string]any{"id": 2, "group_id": 1, "passkey": pkUnit3d, "can_download": true, "num_seeding": 0, "num_leeching": 0})
	unit3dPut(t, e, "freeleech-tokens", map[string]any{"user_id": 2, "torrent_id": siteTorID})
	e.Eventually("the sites' members and torrent at announce", func() bool {
		f, _ := e.Do(controltest.Announce{Path: "/announce/" + pkUnit3d, InfoHash: ih, PeerID: "-qB4650-probeprobe01", Left: size, Event: "stopped"})
		return f == ""
	})

	seeder := start(t, dir, "aria2-seeder", aria2("--dir="+filepath.Join(dir, "seed"), "--check-integrity=true",
		"--seed-ratio=0.0", "--listen-port="+strconv.Itoa(freePort(t)), tSeed)...)
	// The leechers' first announce then hands them the seeder.
	seedMember, err := e.Service.Member(t.Context(), control.MemberRef{Passkey: pkSeed})
	if err != nil {
		t.Fatal(err)
	}
	waitAnnounced(t, e, "the seeder's announce", 30*time.Second, uint64(seedMember.ID))
	leechers := []*proc{
		start(t, dir, "aria2-unit3d", aria2("--dir="+filepath.Join(dir, "dl-unit3d"), "--seed-time=0",
			"--listen-port="+strconv.Itoa(freePort(t)), tUnit3d)...),
		start(t, dir, "aria2-nexus", aria2("--dir="+filepath.Join(dir, "dl-nexus"), "--seed-time=0",
			"--listen-port="+strconv.Itoa(freePort(t)), tNexus)...),
	}
	t0 := time.Now()
	waitFile(t, filepath.Join(dir, "dl-unit3d", "payload.bin"), want, 90*time.Second)
	waitFile(t, filepath.Join(dir, "dl-nexus", "payload.bin"), want, 90*time.Second)
	t.Logf("downloads intact after %v", time.Since(t0).Round(time.Millisecond))
	// Each leecher tells the tracker it has finished (--seed-time=0: then
	// it stops, with its stopped announce).
	for _, pk := range []string{pkUnit3d, pkNexus} {
		m, err := e.Service.Member(t.Context(), control.MemberRef{Passkey: pk})
		if err != nil {
			t.Fatal(err)
		}
		waitAnnounced(t, e, "the announce with nothing left of "+pk[:6], 60*time.Second, uint64(m.ID))
	}
	t.Logf("completions announced after %v", time.Since(t0).Round(time.Millisecond))
	for _, l := range leechers {
		l.wait(t)
	}
	seeder.stop(t) // aria2: SIGINT is the graceful stop (stopped announce)
	t.Logf("clients stopped after %v", time.Since(t0).Round(time.Millisecond))

	// Every client's announces reached the core as its member, on its URL form.
	ids := map[string]uint64{}
	for _, pk := range []string{pkSeed, pkUnit3d, pkNexus} {
		m, err := e.Service.Member(t.Context(), control.MemberRef{Passkey: pk})
		if err != nil {
			t.Fatal(err)
		}
		ids[pk] = uint64(m.ID)
	}
	type sums struct {
		accepted       int
		raw, credited  uint64
		clients        map[string]bool
		promotionNames map[string]bool
	}
	got := map[uint64]*sums{}
	for _, ev := range e.Sink.All() {
		if ev.GetResult() != events.Result_RESULT_ACCEPTED || !bytes.Equal(ev.GetInfoHash(), ih[:]) {
			continue
		}
		if string(ev.GetPeerId()[:8]) == "-qB4650-" { // the probe above
			continue
		}

		s := got[ev.GetUserId()]
		if s == nil {
			s = &sums{clients: map[string]bool{}, promotionNames: map[string]bool{}}
			got[ev.GetUserId()] = s
		}
		s.accepted++
		s.raw += ev.GetDeltaDownloaded()
		s.credited += ev.GetCreditedDownloaded()
		s.clients[string(ev.GetPeerId()[:3])] = true
		s.promotionNames[ev.GetPromotion().GetName()] = true
	}
	for pk, client := range map[string]string{pkSeed: "A2-", pkUnit3d: "A2-", pkNexus: "A2-"} {
		s := got[ids[pk]]
		if s == nil || s.accepted < 2 || !s.clients[client] {
			t.Fatalf("member %s: announces %+v, want several from %s", pk[:6], s, client)
		}
	}
	if s := got[ids[pkUnit3d]]; s.raw == 0 || s.credited != 0 || !s.promotionNames["token"] {
		t.Errorf("token holder: raw download %d credited %d promotions %v, want credited 0 under the token", s.raw, s.credited, s.promotionNames)
	}
	if s := got[ids[pkNexus]]; s.raw == 0 || s.credited != s.raw {
		t.Errorf("NexusPHP leecher: raw download %d credited %d, want all credited", s.raw, s.credited)
	}
	t.Logf("members' announces accepted: gazelle seeder %d, unit3d leecher %d (raw %d B, credited %d B), nexusphp leecher %d (raw %d B)",
		got[ids[pkSeed]].accepted, got[ids[pkUnit3d]].accepted, got[ids[pkUnit3d]].raw, got[ids[pkUnit3d]].credited,
		got[ids[pkNexus]].accepted, got[ids[pkNexus]].raw)
}

// needClients skips (laptop) or fails (CI) when aria2c or mktorrent is missing.
func needClients(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"aria2c", "mktorrent"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is not installed (scripts/test-deps)", tool)
			}
			t.Skipf("%s not installed", tool)
		}
	}
}

// writePayload writes size random bytes to path and returns their hash.
func writePayload(t *testing.T, path string, size int) [32]byte {
	t.Helper()
	payload := make([]byte, size)
	_, _ = rand.Read(payload)
	if err := os.WriteFile(path, payload, 0o644); err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(payload)
}

// mktorrent makes dir/name.torrent of dir/seed/payload.bin with announce
// (outside the info dict: every such file has the same info_hash).
func mktorrent(t *testing.T, dir, name, announce string) string {
	t.Helper()
	path := filepath.Join(dir, name+".torrent")
	out, err := exec.Command("mktorrent", "-p", "-l", "16", "-a", announce, "-o", path, filepath.Join(dir, "seed", "payload.bin")).CombinedOutput()
	if err != nil {
		t.Fatalf("mktorrent: %v\n%s", err, out)
	}
	return path
}

// infoHash is the info_hash of the .torrent file at path.
func infoHash(t *testing.T, path string) [20]byte {
	t.Helper()
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	meta, err := admin.ParseTorrent(file)
	if err != nil {
		t.Fatal(err)
	}
	return meta.InfoHash
}

// ocelotUpdate sends Gazelle's update request (Ocelot's protocol) with the
// key/value pairs kv, which the caller has escaped as Gazelle does.
func ocelotUpdate(t *testing.T, e *controltest.Env, action string, kv ...string) {
	t.Helper()
	path := "/" + e2eSecret + "/update?action=" + action
	for i := 0; i < len(kv); i += 2 {
		path += "&" + kv[i] + "=" + kv[i+1]
	}
	if code, body := e.Get(path); code != 200 || body != "success" {
		t.Fatalf("%s: %d %q", action, code, body)
	}
}

// unit3dPut sends UNIT3D's PUT request (UNIT3D-Announce's protocol) with
// body as JSON.
func unit3dPut(t *testing.T, e *controltest.Env, path string, body map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	if code, ans := e.Send(http.MethodPut, "/announce/"+e2eKey+"/"+path, "application/json", bytes.NewReader(b)); code != 200 {
		t.Fatalf("PUT %s: %d %q", path, code, ans)
	}
}

// aria2 is an aria2c command line for the tests' swarms: no DHT, local
// discovery or peer exchange (the tracker alone hands out peers).
func aria2(extra ...string) []string {
	return append([]string{"aria2c", "--enable-dht=false", "--enable-dht6=false", "--bt-enable-lpd=false",
		"--enable-peer-exchange=false", "--disable-ipv6=true", "--file-allocation=none", "--console-log-level=notice",
		"--summary-interval=0", "--bt-stop-timeout=120"}, extra...)
}

// waitAnnounced waits for an accepted announce of member with nothing left.
func waitAnnounced(t *testing.T, e *controltest.Env, what string, within time.Duration, member uint64) {
	t.Helper()
	waitFor(t, what, within, func() bool {
		for _, ev := range e.Sink.All() {
			if ev.GetUserId() == member && ev.GetResult() == events.Result_RESULT_ACCEPTED && ev.GetLeft() == 0 {
				return true
			}
		}
		return false
	})
}

// escape is PHP's rawurlencode, as Gazelle encodes an info_hash.
func escape(b []byte) string {
	var s strings.Builder
	for _, c := range b {
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			s.WriteByte(c)
			continue
		}
		s.WriteString("%" + strings.ToUpper(hex.EncodeToString([]byte{c})))
	}
	return s.String()
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

// proc is a client process in its own process group, killed at cleanup.
type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	log  string
}

func start(t *testing.T, dir, name string, args ...string) *proc {
	t.Helper()
	logPath := filepath.Join(dir, name+".log")
	logf, err := os.Create(logPath)
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
	p := &proc{name: name, cmd: cmd, done: make(chan struct{}), log: logPath}
	go func() { _ = cmd.Wait(); logf.Close(); close(p.done) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	})
	return p
}

// wait waits for the client to exit on its own.
func (p *proc) wait(t *testing.T) {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(60 * time.Second):
		t.Fatalf("%s did not finish", p.name)
	}
}

// stop asks the client to stop (its stopped announce) and waits for it.
func (p *proc) stop(t *testing.T) {
	t.Helper()
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGINT)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		t.Fatalf("%s did not stop on SIGINT", p.name)
	}
}

func waitFor(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, within)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func waitFile(t *testing.T, path string, want [32]byte, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		if b, err := os.ReadFile(path); err == nil && sha256.Sum256(b) == want {
			return
		}
		if time.Now().After(deadline) {
			logs, _ := filepath.Glob(filepath.Join(filepath.Dir(filepath.Dir(path)), "*.log"))
			var tails []string
			for _, l := range logs {
				b, _ := os.ReadFile(l)
				if len(b) > 1500 {
					b = b[len(b)-1500:]
				}
				tails = append(tails, fmt.Sprintf("== %s\n%s", filepath.Base(l), b))
			}
			t.Fatalf("%s: not intact within %v\n%s", path, within, strings.Join(tails, "\n"))
		}
		time.Sleep(200 * time.Millisecond)
	}
}
