package tracker

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ratioguard/ratioguard/internal/ops"
	"github.com/ratioguard/ratioguard/internal/testenv"
	"github.com/ratioguard/ratioguard/schemas/events"
	"github.com/ratioguard/ratioguard/tracker/core"
	"github.com/ratioguard/ratioguard/tracker/stream"
)

// downWriter is a Kafka that never acknowledges.
type downWriter struct{}

func (downWriter) WriteRecords(context.Context, []kgo.Record) error {
	return errors.New("broker unreachable")
}
func (downWriter) Close() error { return nil }

// serveOps serves the tracker's readiness on an admin listener of its own,
// as the tracker command does, until ctx ends; it returns the listener's base URL.
func serveOps(ctx context.Context, t *testing.T, srv *Server, log *slog.Logger) string {
	t.Helper()
	adm := ops.New(log)
	adm.Check("tracker", srv.Ready)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = adm.Serve(ctx, ln) }()
	return "http://" + ln.Addr().String()
}

// /readyz follows the event producer: ready while events are kept (even in
// the spool while Kafka is down), not ready once the spool is full and
// events would be lost, so that a balancer drains traffic away.
func TestReadyzFollowsTheEventProducer(t *testing.T) {
	pg := testenv.Postgres(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	metrics := prometheus.NewRegistry()
	producer, err := stream.New(ctx, stream.Config{
		Brokers: []string{"127.0.0.1:1"}, SpoolDir: filepath.Join(t.TempDir(), "spool"),
		SpoolSegmentBytes: 4 << 10, SpoolMaxBytes: 16 << 10, RetryMin: time.Hour, RetryMax: time.Hour,
		NewWriter: func([]string, string, time.Duration) stream.MessageWriter { return downWriter{} },
	}, metrics, log)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		cctx, ccancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer ccancel()
		_ = producer.Close(cctx)
	}()
	srv, err := New(Config{Core: core.Config{Interval: time.Minute}}, pg.Pool, producer, metrics, log)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Ready(ctx); err == nil || !strings.Contains(err.Error(), "not answering announces") {
		t.Fatalf("Ready before Serve: %v, want not answering announces", err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	defer func() { cancel(); <-served }()
	readyz := serveOps(ctx, t, srv, log) + "/readyz"
	waitFor(t, "/readyz 200 once the policy is loaded", 15*time.Second, func() bool { return httpStatus(readyz) == http.StatusOK })

	// Kafka is down: events go to the spool and the tracker stays ready.
	var seq uint64
	publish := func(n int) {
		for range n {
			seq++
			producer.Publish(&events.Announce{SchemaVersion: 1, EventId: events.ID([8]byte{1}, seq), Sequence: seq,
				UserId: 1, TorrentId: 1, InfoHash: make([]byte, 20), PeerId: make([]byte, 20), UserAgent: strings.Repeat("x", 100)})
		}
	}
	publish(10)
	waitFor(t, "the producer to spool", 10*time.Second, func() bool { return producer.Stats().Spooled > 0 })
	if code := httpStatus(readyz); code != http.StatusOK {
		t.Fatalf("/readyz %d while events are spooled with room left, want 200", code)
	}
	// The spool fills up: the next events would be lost.
	publish(1000)
	if st := producer.Stats(); st.Dropped == 0 {
		t.Fatalf("stats %+v: the 16 KiB spool should have refused events", st)
	}
	resp, err := http.Get(readyz)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "event stream") || !strings.Contains(string(body), "spool full") {
		t.Fatalf("/readyz with the spool full: %d %q, want 503 naming the event stream's full spool", resp.StatusCode, body)
	}
}
