package tracker

import (
	"crypto/sha256"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/ratioguard/ratioguard/tracker/bencode"
)

// Real BitTorrent client processes for the end-to-end test.

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
