package testenv

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// serverProc is one run of a private engine's server process, started in a
// process group of its own so that Kill takes its children down with it.
type serverProc struct {
	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error
}

// startProc starts cmd with its output appended to logPath.
func startProc(cmd *exec.Cmd, logPath string) (*serverProc, error) {
	out, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		out.Close()
		return nil, err
	}
	p := &serverProc{cmd: cmd, exited: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		out.Close()
		close(p.exited)
	}()
	return p, nil
}

func (p *serverProc) running() bool {
	if p == nil {
		return false
	}
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// signal sends sig to the whole process group.
func (p *serverProc) signal(sig syscall.Signal) {
	if p != nil && p.cmd.Process != nil {
		_ = syscall.Kill(-p.cmd.Process.Pid, sig)
	}
}

// stop sends sig and waits up to grace for the exit, then kills the group.
func (p *serverProc) stop(t testing.TB, what string, sig syscall.Signal, grace time.Duration) {
	t.Helper()
	p.signal(sig)
	select {
	case <-p.exited:
	case <-time.After(grace):
		t.Logf("%s ignored %v for %v; killing it", what, sig, grace)
		p.signal(syscall.SIGKILL)
		<-p.exited
	}
}

// waitUntil polls ready every 100 ms until it returns nil, the process
// exits, or timeout passes.
func waitUntil(p *serverProc, timeout time.Duration, ready func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := ready()
		if err == nil {
			return nil
		}
		if p != nil && !p.running() {
			return fmt.Errorf("exited while starting: %v (last probe: %v)", p.waitErr, err)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after %v: %v", timeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// logTail returns the last lines of each file, for failure messages.
func logTail(files ...string) string {
	var out bytes.Buffer
	for _, f := range files {
		data, _ := os.ReadFile(f)
		lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
		fmt.Fprintf(&out, "---- %s (last lines)\n%s\n", f, strings.Join(lines[max(0, len(lines)-30):], "\n"))
	}
	return out.String()
}

// skipOrFail skips the test on a laptop without the engine, fails it in CI.
func skipOrFail(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}
