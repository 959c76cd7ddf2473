// Package controltest owns the harness the control protocols' tests share:
// a real tracker (policy cache synced from a fresh Postgres database by
// LISTEN/NOTIFY, announce frontend on a loopback port, events kept in
// memory), the control service over the same database, and an admin
// server on which a test mounts the adapter it drives like the site would.
package controltest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ratioguard/ratioguard/internal/testenv"
	"github.com/ratioguard/ratioguard/schemas/events"
	"github.com/ratioguard/ratioguard/tracker"
	"github.com/ratioguard/ratioguard/tracker/bencode"
	"github.com/ratioguard/ratioguard/tracker/control"
	"github.com/ratioguard/ratioguard/tracker/core"
)

// Env is a running tracker with its control surface.
type Env struct {
	T        testing.TB
	PG       testenv.PG
	Service  *control.Service
	Core     *core.Core
	Announce string // base URL of the announce listener
	Admin    *httptest.Server
	Sink     *Sink
	Log      *slog.Logger
}

// Start runs a tracker on a fresh database and an admin server whose routes
// mount puts on the router (nil: none). Everything stops when the test ends.
func Start(t testing.TB, mount func(r chi.Router, svc *control.Service)) *Env {
	t.Helper()
	pg := testenv.Postgres(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	sink := &Sink{}
	srv, err := tracker.New(tracker.Config{Core: core.Config{Interval: time.Minute, MinInterval: time.Second}},
		pg.Pool, sink, prometheus.NewRegistry(), log)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	e := &Env{T: t, PG: pg, Core: srv.Core(), Announce: "http://" + ln.Addr().String(), Sink: sink, Log: log}
	e.Service = control.New(pg.Pool, srv.Core(), log)
	r := chi.NewRouter()
	if mount != nil {
		mount(r, e.Service)
	}
	e.Admin = httptest.NewServer(r)
	t.Cleanup(func() {
		e.Admin.Close()
		cancel()
		if err := <-served; err != nil {
			t.Errorf("tracker: %v", err)
		}
	})
	// Serve loads the policy before answering: wait for an answer.
	e.Eventually("the tracker to answer", func() bool {
		resp, err := http.Get(e.Announce + "/nobody/scrape")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	return e
}

// Within is how soon a control change must show at announce.
const Within = 2 * time.Second

// Eventually fails the test unless cond holds within Within.
func (e *Env) Eventually(what string, cond func() bool) {
	e.T.Helper()
	deadline := time.Now().Add(Within)
	for !cond() {
		if time.Now().After(deadline) {
			e.T.Fatalf("%s: not within %v", what, Within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Sink keeps every event in memory, and publishes it to the sink it
// forwards to, if any.
type Sink struct {
	mu   sync.Mutex
	evs  []*events.Announce
	next core.Sink
}

// Publish implements core.Sink.
func (s *Sink) Publish(ev *events.Announce) {
	s.mu.Lock()
	s.evs = append(s.evs, ev)
	next := s.next
	s.mu.Unlock()
	if next != nil {
		next.Publish(ev)
	}
}

// Forward makes every later event also go to next (the event stream to
// Kafka, for a test that runs the pipeline behind the tracker).
func (s *Sink) Forward(next core.Sink) {
	s.mu.Lock()
	s.next = next
	s.mu.Unlock()
}

// Last returns the last event (nil: none).
func (s *Sink) Last() *events.Announce {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.evs) == 0 {
		return nil
	}
	return s.evs[len(s.evs)-1]
}

// All returns every event so far, oldest first.
func (s *Sink) All() []*events.Announce {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*events.Announce(nil), s.evs...)
}

// Announce is one announce of a test client.
type Announce struct {
	Path       string // "/{passkey}/announce", "/announce/{passkey}", ...
	InfoHash   [20]byte
	PeerID     string // 20 bytes
	Port       int
	Uploaded   uint64
	Downloaded uint64
	Left       uint64
	Event      string
	Addr       string // X-Real-IP is not used: the loopback address announces
}

// Do sends a and returns the failure reason ("" when accepted) and the
// event the tracker published for it.
func (e *Env) Do(a Announce) (failure string, ev *events.Announce) {
	e.T.Helper()
	if a.PeerID == "" {
		a.PeerID = "-qB4650-controltest0"
	}
	if a.Port == 0 {
		a.Port = 51413
	}
	q := url.Values{}
	q.Set("peer_id", a.PeerID)
	q.Set("port", fmt.Sprint(a.Port))
	q.Set("uploaded", fmt.Sprint(a.Uploaded))
	q.Set("downloaded", fmt.Sprint(a.Downloaded))
	q.Set("left", fmt.Sprint(a.Left))
	q.Set("compact", "1")
	if a.Event != "" {
		q.Set("event", a.Event)
	}
	sep := "?"
	if containsQuery(a.Path) {
		sep = "&"
	}
	target := e.Announce + a.Path + sep + "info_hash=" + url.QueryEscape(string(a.InfoHash[:])) + "&" + q.Encode()
	req, err := http.NewRequest(http.MethodGet, target, nil)
	if err != nil {
		e.T.Fatal(err)
	}
	req.Header.Set("User-Agent", "qBittorrent/4.6.5")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.T.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		e.T.Fatal(err)
	}
	v, err := bencode.Decode(body)
	if err != nil {
		e.T.Fatalf("announce answer %q: %v", body, err)
	}
	d, _ := v.(map[string]any)
	if f, ok := d["failure reason"]; ok {
		failure = fmt.Sprint(f)
		if b, ok := f.([]byte); ok {
			failure = string(b)
		}
	}
	return failure, e.Sink.Last()
}

func containsQuery(p string) bool {
	for i := 0; i < len(p); i++ {
		if p[i] == '?' {
			return true
		}
	}
	return false
}

// Get sends a GET to the admin server and returns the status and body.
func (e *Env) Get(path string) (int, string) {
	e.T.Helper()
	return e.Send(http.MethodGet, path, "", nil)
}

// Send sends a request with a body to the admin server.
func (e *Env) Send(method, path, contentType string, body io.Reader) (int, string) {
	e.T.Helper()
	req, err := http.NewRequest(method, e.Admin.URL+path, body)
	if err != nil {
		e.T.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.T.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.T.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// Exec runs SQL on the test database.
func (e *Env) Exec(sql string, args ...any) {
	e.T.Helper()
	if _, err := e.PG.Pool.Exec(context.Background(), sql, args...); err != nil {
		e.T.Fatalf("%s: %v", sql, err)
	}
}

// Count runs a counting query.
func (e *Env) Count(sql string, args ...any) int {
	e.T.Helper()
	var n int
	if err := e.PG.Pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		e.T.Fatalf("%s: %v", sql, err)
	}
	return n
}
