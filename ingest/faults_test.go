package ingest_test

import (
	"context"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/ratioguard/ratioguard/ingest/ingesttest"
	"github.com/ratioguard/ratioguard/internal/config"
)

// faultSize is the default CI size; RG_LONG=1 runs the full size.
func faultSize() (events, kills int) {
	if os.Getenv("RG_LONG") == "1" {
		return 1_000_000, 10
	}
	return 100_000, 3
}

// child is one ingest process (this test binary re-executed).
type child struct {
	proc   *os.Process // captured at start: cmd.Wait writes cmd's fields concurrently
	pid    int
	log    string
	exited chan struct{}
}

func startChild(t *testing.T, s stack, n int) *child {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), "ingest.log")
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(),
		envChild+"="+s.kafka.Topic, "RG_TEST_LOG=1",
		config.EnvPostgresURL+"="+s.pg.URL, config.EnvClickHouseURL+"="+s.ch.URL,
		config.EnvKafkaBrokers+"="+joinList(s.kafka.Brokers))
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		t.Fatalf("start ingest child %d: %v", n, err)
	}
	c := &child{proc: cmd.Process, pid: cmd.Process.Pid, log: logPath, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); f.Close(); close(c.exited) }()
	return c
}

func (c *child) signal(sig syscall.Signal) { _ = c.proc.Signal(sig) }

func (c *child) wait(t *testing.T) {
	t.Helper()
	select {
	case <-c.exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("ingest child %d did not exit", c.pid)
	}
}

// TestIngestSurvivesKills produces a stream with duplicates and garbage
// while an ingest process (both sinks) is SIGKILLed at random moments and
// restarted; after the last run every table equals the truth exactly.
func TestIngestSurvivesKills(t *testing.T) {
	n, kills := faultSize()
	s := newStack(t, 4)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	ds := ingesttest.NewDataset(3, n, 2000, 1000, 11, 50)
	if err := ingesttest.SeedPostgres(ctx, s.pg.Pool, 2000, 1000); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))

	// Produce in the background, spread over the kill phase.
	produced := make(chan error, 1)
	go func() {
		chunks := 40
		size := (len(ds.Msgs) + chunks - 1) / chunks
		pause := time.Duration(kills) * 2500 * time.Millisecond / time.Duration(chunks)
		for i := 0; i < len(ds.Msgs); i += size {
			if err := ingesttest.Produce(ctx, s.kafka.Brokers, s.kafka.Topic, ds.Msgs[i:min(i+size, len(ds.Msgs))]); err != nil {
				produced <- err
				return
			}
			time.Sleep(pause)
		}
		produced <- nil
	}()

	var logs []string
	for k := 0; k < kills; k++ {
		c := startChild(t, s, k)
		logs = append(logs, c.log)
		time.Sleep(time.Duration(800+rng.IntN(3000)) * time.Millisecond)
		c.signal(syscall.SIGKILL)
		c.wait(t)
		t.Logf("kill %d: ingest child %d killed", k+1, c.pid)
	}
	if err := <-produced; err != nil {
		t.Fatal(err)
	}
	final := startChild(t, s, kills)
	logs = append(logs, final.log)
	ends, err := ingesttest.EndOffsets(ctx, s.kafka.Brokers, s.kafka.Topic)
	if err != nil {
		t.Fatal(err)
	}
	err = ingesttest.WaitCaughtUp(ctx, ends, chOffsets(s.ch.Conn, s.kafka.Topic), ledgerOffsets(s.pg.Pool, s.kafka.Topic))
	final.signal(syscall.SIGTERM)
	final.wait(t)
	if err != nil {
		dumpLogs(t, logs)
		t.Fatal(err)
	}
	t.Logf("%d messages: %d events, %d duplicates, %d garbage; %d kills", len(ds.Msgs), ds.Truth.Events, ds.Dups, ds.Truth.Garbage, kills)
	failed := false
	if err := ingesttest.CheckClickHouse(ctx, s.ch.Conn, ds.Truth); err != nil {
		t.Error(err)
		failed = true
	}
	if err := ingesttest.CheckLedger(ctx, s.pg.Pool, ds.Truth); err != nil {
		t.Error(err)
		failed = true
	}
	checkReconcile(t, ctx, s)
	if failed {
		dumpLogs(t, logs)
	}
}

func dumpLogs(t *testing.T, logs []string) {
	for i, l := range logs {
		b, _ := os.ReadFile(l)
		if len(b) > 8000 {
			b = b[len(b)-8000:]
		}
		t.Logf("--- ingest child %d log (tail) ---\n%s", i, b)
	}
}
