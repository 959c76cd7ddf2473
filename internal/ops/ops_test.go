package ops

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func get(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
	return w.Code, w.Body.String()
}

func TestEndpoints(t *testing.T) {
	s := New(slog.New(slog.NewTextHandler(io.Discard, nil)))
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "ratioguard_test_things_total", Help: "Things."})
	s.Registry().MustRegister(c)
	c.Add(3)
	if code, body := get(t, s.Handler(), "/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz: %d %q", code, body)
	}
	code, body := get(t, s.Handler(), "/metrics")
	for _, want := range []string{"ratioguard_test_things_total 3", "go_goroutines", "process_cpu_seconds_total", "go_sched_latencies_seconds"} {
		if code != 200 || !strings.Contains(body, want) {
			t.Errorf("/metrics (%d) lacks %q", code, want)
		}
	}
	if code, body := get(t, s.Handler(), "/readyz"); code != 200 || body != "ready\n" {
		t.Errorf("/readyz without checks: %d %q", code, body)
	}

	var ingestErr error
	s.Check("ingest", func(context.Context) error { return ingestErr })
	s.Check("detect", func(context.Context) error { return errors.New("last pass failed: clickhouse down") })
	code, body = get(t, s.Handler(), "/readyz")
	if code != http.StatusServiceUnavailable || body != "detect: last pass failed: clickhouse down\n" {
		t.Errorf("/readyz with a failing check: %d %q", code, body)
	}
	ingestErr = errors.New("waiting for postgres")
	code, body = get(t, s.Handler(), "/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "detect: last pass") || !strings.Contains(body, "ingest: waiting for postgres") {
		t.Errorf("/readyz with two failing checks: %d %q", code, body)
	}
	s.Check("detect", func(context.Context) error { return nil })
	ingestErr = nil
	if code, _ := get(t, s.Handler(), "/readyz"); code != 200 {
		t.Errorf("/readyz after recovery: %d", code)
	}
	// More routes mount on the router.
	s.Router().Get("/api/ping", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("pong")) })
	if code, body := get(t, s.Handler(), "/api/ping"); code != 200 || body != "pong" {
		t.Errorf("mounted route: %d %q", code, body)
	}
}

// A check gets a deadline: one that hangs does not hang /readyz.
func TestCheckHasDeadline(t *testing.T) {
	s := New(slog.New(slog.NewTextHandler(io.Discard, nil)))
	s.Check("slow", func(ctx context.Context) error {
		if _, ok := ctx.Deadline(); !ok {
			return errors.New("no deadline")
		}
		return nil
	})
	if err := s.Ready(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestServeAnswersAndStops(t *testing.T) {
	s := New(slog.New(slog.NewTextHandler(io.Discard, nil)))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()
	resp, err := http.Get("http://" + ln.Addr().String() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("/healthz over the listener: %d", resp.StatusCode)
	}
	cancel()
	if err := <-served; err != nil {
		t.Errorf("Serve after ctx ended: %v", err)
	}
	if _, err := s.Start(context.Background(), "256.0.0.1:1"); err == nil {
		t.Error("a bad address was accepted")
	}
	noop, err := s.Start(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	noop()
}
