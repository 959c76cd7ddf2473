package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ratioguard/ratioguard/internal/config"
	"github.com/ratioguard/ratioguard/internal/ops"
	"github.com/ratioguard/ratioguard/internal/testenv"
)

// Under `all` a stage uses the shared operations server, and refuses an
// --admin-addr of its own; on its own it starts one. Either way it is not
// ready until it says so.
func TestStartAdminSharedOrOwn(t *testing.T) {
	env, _, _ := testEnv()
	env.ops = ops.New(env.log)
	fs := flag.NewFlagSet("ingest", flag.ContinueOnError)
	addr := adminFlag(fs, defaultIngestAdmin)
	if err := fs.Parse([]string{"--admin-addr", "127.0.0.1:0"}); err != nil {
		t.Fatal(err)
	}
	var usage usageError
	if _, _, err := startAdmin(context.Background(), env, fs, "ingest", *addr); !errors.As(err, &usage) || !strings.Contains(err.Error(), "--ingest-flags") {
		t.Fatalf("a stage's own --admin-addr under all: %v, want a usage error", err)
	}
	fs = flag.NewFlagSet("ingest", flag.ContinueOnError)
	addr = adminFlag(fs, defaultIngestAdmin)
	adm, stop, err := startAdmin(context.Background(), env, fs, "ingest", *addr)
	if err != nil || adm != env.ops {
		t.Fatalf("under all: %v, %v; want the shared server", adm, err)
	}
	stop()
	if err := adm.Ready(context.Background()); err == nil || !strings.Contains(err.Error(), "ingest: starting") {
		t.Fatalf("Ready before the stage is up: %v", err)
	}

	env.ops = nil
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	own, stop, err := startAdmin(ctx, env, fs, "ingest", "127.0.0.1:0")
	if err != nil || own == nil {
		t.Fatalf("on its own: %v", err)
	}
	stop() // returns: the listener closes without ctx ending
}

// syncBuffer is a bytes.Buffer several stages write to at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// runInBackground runs `ratioguard args...` until cancel: its exit code
// arrives on code, its output in out.
func runInBackground(args ...string) (code <-chan int, out *syncBuffer, cancel context.CancelFunc) {
	out = &syncBuffer{}
	env := &cliEnv{stdout: out, stderr: out, log: slog.New(slog.NewTextHandler(out, nil))}
	ctx, cancel := context.WithCancel(context.Background())
	c := make(chan int, 1)
	go func() { c <- run(ctx, env, args) }()
	return c, out, cancel
}

// waitReady polls base's /readyz until it answers 200, failing if the
// command (its exit code on code, its output in out) returns first or the
// deadline passes.
func waitReady(t *testing.T, base string, code <-chan int, out *syncBuffer, deadline time.Time) {
	t.Helper()
	for c, body := httpGet(base + "/readyz"); c != http.StatusOK; c, body = httpGet(base + "/readyz") {
		select {
		case rc := <-code:
			t.Fatalf("exited %d before ready:\n%s", rc, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz still %d %q:\n%s", c, body, out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func httpGet(url string) (int, string) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// `ratioguard all` serves every stage's metrics and readiness on its one
// admin address, none on the tracker's public port.
func TestAllServesEveryStageOnOneAdminAddress(t *testing.T) {
	pg, ch, k, maria := testenv.Postgres(t), testenv.ClickHouse(t), testenv.Kafka(t, 2), testenv.MariaDB(t)
	maria.Exec(t, gazelleSchema(t))
	trackerAddr, adminAddr := freeAddr(t), freeAddr(t)
	t.Setenv(config.EnvPostgresURL, pg.URL)
	t.Setenv(config.EnvClickHouseURL, ch.URL)
	t.Setenv(config.EnvKafkaBrokers, strings.Join(k.Brokers, ","))
	t.Setenv(config.EnvTrackerAddr, trackerAddr)
	t.Setenv(config.EnvReportsAddr, freeAddr(t))
	code, out, cancel := runInBackground("all", "--admin-addr", adminAddr,
		"--tracker-flags", "--topic "+k.Topic+" --spool-dir "+t.TempDir(),
		"--ingest-flags", "--topic "+k.Topic+" --linger 100ms",
		"--detect-flags", "--interval 1h", "--enforce-flags", "--interval 1h",
		"--writeback-flags", "--site gazelle --site-dsn "+maria.DSN+" --topic "+k.Topic+" --flush-interval 100ms")
	defer cancel()
	base := "http://" + adminAddr
	deadline := time.Now().Add(90 * time.Second)
	waitReady(t, base, code, out, deadline)
	// An announce (refused: unknown passkey) reaches Kafka, both sinks and
	// the write-back.
	if c, body := httpGet("http://" + trackerAddr + "/0123456789abcdef0123456789abcdef/announce?info_hash=aaaaaaaaaaaaaaaaaaaa&peer_id=-qB4650-aaaaaaaaaaaa&port=6881&uploaded=0&downloaded=0&left=0"); c != 200 || !strings.Contains(body, "failure reason") {
		t.Fatalf("announce: %d %q", c, body)
	}
	// The event is stored by both sinks; the first detector and enforcement
	// passes (started with the process) are recorded.
	var metrics string
	for _, want := range []string{`ratioguard_ingest_records_stored_total{sink="ledger"} 1`, `ratioguard_ingest_records_stored_total{sink="clickhouse"} 1`,
		`ratioguard_writeback_records_stored_total{sink="writeback-gazelle"} 1`,
		`ratioguard_detect_passes_total{result="ok",scheduler="scheduler"}`, `ratioguard_enforce_pass_seconds_count{result="ok"}`} {
		for !strings.Contains(metrics, want) {
			if time.Now().After(deadline) {
				t.Fatalf("/metrics never showed %s:\n%s", want, metrics)
			}
			time.Sleep(100 * time.Millisecond)
			_, metrics = httpGet(base + "/metrics")
		}
	}
	for _, want := range []string{
		`ratioguard_tracker_announces_total{refusal="REFUSAL_UNKNOWN_PASSKEY",result="refused"} 1`,
		"ratioguard_stream_", `ratioguard_ingest_records_stored_total{sink="clickhouse"}`,
		`ratioguard_ingest_consumer_lag{partition=`, "ratioguard_rollup_lag_seconds",
		`ratioguard_detect_reports_opened_total{detector="faked_upload"} 0`, "ratioguard_detect_detector_seconds",
		"ratioguard_enforce_members", "go_goroutines", "process_cpu_seconds_total",
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	for _, path := range []string{"/metrics", "/readyz", "/healthz"} {
		if c, body := httpGet("http://" + trackerAddr + path); c != 200 || !strings.Contains(body, "failure reason") {
			t.Errorf("public %s: %d %q, want the tracker's failure answer", path, c, body)
		}
	}
	cancel()
	if rc := <-code; rc != 0 {
		t.Errorf("all exited %d on stop:\n%s", rc, out.String())
	}
}
