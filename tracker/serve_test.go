package tracker

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ratioguard/ratioguard/internal/testenv"
	"github.com/ratioguard/ratioguard/schemas/events"
	"github.com/ratioguard/ratioguard/tracker/core"
)

type discardSink struct{}

func (discardSink) Publish(*events.Announce) {}

// Serve answers with either HTTP server (Config.HTTPServer), is ready while
// it does, and stops accepting when its context ends; an unknown server is
// refused by New.
func TestServeWithEitherHTTPServer(t *testing.T) {
	pg := testenv.Postgres(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if _, err := New(Config{HTTPServer: "fasthttp"}, pg.Pool, discardSink{}, prometheus.NewRegistry(), log); err == nil {
		t.Fatal("an unknown HTTP server accepted")
	}
	for _, kind := range []string{HTTPWire, HTTPStd} {
		t.Run(kind, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			srv, err := New(Config{Core: core.Config{Interval: time.Minute}, HTTPServer: kind}, pg.Pool, discardSink{}, prometheus.NewRegistry(), log)
			if err != nil {
				t.Fatal(err)
			}
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			served := make(chan error, 1)
			go func() { served <- srv.Serve(ctx, ln) }()
			waitFor(t, "the tracker to be ready", 15*time.Second, func() bool { return srv.Ready(ctx) == nil })
			url := "http://" + ln.Addr().String() + "/" + strings.Repeat("0", 32) + "/announce?info_hash=aaaaaaaaaaaaaaaaaaaa" +
				"&peer_id=-qB4650-aaaaaaaaaaaa&port=6881&uploaded=0&downloaded=0&left=0"
			for range 2 { // the second on the kept-alive connection
				resp, err := http.Get(url)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "unknown passkey") {
					t.Fatalf("%d %q, want the unknown passkey's failure reason", resp.StatusCode, body)
				}
			}
			cancel() // the kept-alive connection is idle: closed at once
			if err := <-served; err != nil {
				t.Fatalf("serve: %v", err)
			}
			if srv.Ready(context.Background()) == nil {
				t.Error("ready after Serve returned")
			}
			if c, err := net.Dial("tcp", ln.Addr().String()); err == nil {
				c.Close()
				t.Error("still accepting after Serve returned")
			}
		})
	}
}
