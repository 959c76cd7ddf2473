// Package tracker wires the announce server together: the policy cache and
// its Postgres syncer (tracker/policy), the announce core (tracker/core), the
// HTTP frontend (tracker/frontend) and the event sink (normally the Kafka
// producer of tracker/stream), served by the tracker's own HTTP/1.1 server
// (tracker/wire) or by net/http (Config.HTTPServer). Serve answers until its
// context ends and then stops accepting requests, so the caller can drain
// the sink. Ready is the
// tracker's readiness check, for /readyz on its admin address (internal/ops).
package tracker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ratioguard/ratioguard/tracker/conntimeout"
	"github.com/ratioguard/ratioguard/tracker/core"
	"github.com/ratioguard/ratioguard/tracker/frontend"
	"github.com/ratioguard/ratioguard/tracker/policy"
	"github.com/ratioguard/ratioguard/tracker/wire"
)

// Config configures a tracker server.
type Config struct {
	Core     core.Config
	Frontend frontend.Config
	Sync     policy.SyncConfig
	// ExpireEvery is how often stale peers are swept (default Interval/4, at least 1 s).
	ExpireEvery time.Duration
	// ShutdownTimeout bounds the wait for in-flight requests on stop (default 10 s).
	ShutdownTimeout time.Duration
	// HTTPServer is the HTTP server of the announce listener: HTTPWire
	// (tracker/wire, the default) or HTTPStd (net/http).
	HTTPServer string
	// Wrap, when set, wraps the handler Serve answers with (access logs,
	// request recording in tests).
	Wrap func(frontend.Handler) frontend.Handler
	// Restore, when set, rebuilds the core's state (tracker/state) once the
	// policy is loaded, before the first announce is answered; an error
	// stops Serve.
	Restore func(ctx context.Context, c *core.Core) error
}

// The HTTP servers of Config.HTTPServer.
const (
	HTTPWire = "wire"
	HTTPStd  = "std"
)

// Server is a wired tracker.
type Server struct {
	cfg      Config
	cache    *policy.Cache
	syncer   *policy.Syncer
	core     *core.Core
	frontend *frontend.Frontend
	sink     core.Sink
	log      *slog.Logger
	// serving: Serve is answering announces (after the policy load and the
	// state restore, until it stops accepting).
	serving atomic.Bool
}

// errNotServing is the readiness of a tracker not answering announces.
var errNotServing = errors.New("not answering announces (loading the policy, restoring the state, or stopping)")

// readier is implemented by sinks that can report trouble (stream.Producer).
type readier interface{ Ready() error }

// New builds a server over pool. Every announce event goes to sink; the
// tracker's metrics are registered on reg.
func New(cfg Config, pool *pgxpool.Pool, sink core.Sink, reg prometheus.Registerer, log *slog.Logger) (*Server, error) {
	if sink == nil {
		return nil, errors.New("tracker: no event sink")
	}
	s := &Server{cfg: cfg, cache: policy.NewCache(), sink: sink, log: log}
	s.syncer = policy.NewSyncer(pool, s.cache, cfg.Sync, log.With("component", "policy"))
	s.core = core.New(cfg.Core, s.cache, sink, core.SystemClock{})
	fe, err := frontend.New(s.core, cfg.Frontend, reg, log.With("component", "frontend"))
	if err != nil {
		return nil, err
	}
	s.frontend = fe
	if s.cfg.ExpireEvery <= 0 {
		s.cfg.ExpireEvery = max(s.core.Config().Interval/4, time.Second)
	}
	if s.cfg.ShutdownTimeout <= 0 {
		s.cfg.ShutdownTimeout = 10 * time.Second
	}
	switch s.cfg.HTTPServer {
	case "":
		s.cfg.HTTPServer = HTTPWire
	case HTTPWire, HTTPStd:
	default:
		return nil, fmt.Errorf("tracker: unknown HTTP server %q (want %s or %s)", s.cfg.HTTPServer, HTTPWire, HTTPStd)
	}
	return s, nil
}

// Ready says why the tracker should not take traffic now: its policy is not
// loaded (or is stale), or its event stream would lose events (spool full).
func (s *Server) Ready(context.Context) error {
	if !s.serving.Load() {
		return errNotServing
	}
	if err := s.syncer.Ready(); err != nil {
		return err
	}
	if r, ok := s.sink.(readier); ok {
		if err := r.Ready(); err != nil {
			return fmt.Errorf("event stream: %w", err)
		}
	}
	return nil
}

// Handler is the net/http handler (for tests and embedding).
func (s *Server) Handler() http.Handler { return s.frontend.Handler() }

// Core is the announce core (for tests).
func (s *Server) Core() *core.Core { return s.core }

// Serve loads the policy (failing if Postgres cannot be read at start),
// keeps it in sync, sweeps stale peers and answers on ln until ctx ends; it
// then stops accepting and waits for in-flight requests.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	lctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	err := s.syncer.LoadAll(lctx)
	cancel()
	if err != nil {
		return fmt.Errorf("tracker: initial policy load: %w", err)
	}
	users, torrents := s.cache.Counts()
	s.log.Info("tracker policy loaded", "users", users, "torrents", torrents)
	if s.cfg.Restore != nil {
		if err := s.cfg.Restore(ctx, s.core); err != nil {
			return fmt.Errorf("tracker: restore state: %w", err)
		}
	}

	bg, stopBG := context.WithCancel(ctx)
	defer stopBG()
	go func() { _ = s.syncer.Run(bg) }()
	go s.expireLoop(bg)

	var h frontend.Handler = s.frontend
	if s.cfg.Wrap != nil {
		h = s.cfg.Wrap(h)
	}
	// The connections' time limits (a request within 5 s of its first
	// byte, an answer written within 10 s, 2 min idle) are kept by
	// conntimeout's sweeper, not by per-request deadlines: those cost five
	// runtime timer updates per announce (docs/BENCHMARKS.md, "Server CPU
	// per announce").
	var srv interface {
		Serve(net.Listener) error
		Shutdown(context.Context) error
	}
	if s.cfg.HTTPServer == HTTPStd {
		srv = wire.NewStd(h, s.log)
	} else {
		srv = wire.New(h, s.log.With("component", "http"))
	}
	limited := conntimeout.New(ln, conntimeout.Limits{Request: 5 * time.Second, Write: 10 * time.Second, Idle: 2 * time.Minute})
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(limited) }()
	s.serving.Store(true)
	defer s.serving.Store(false)
	s.log.Info("tracker listening", "addr", ln.Addr().String(), "http_server", s.cfg.HTTPServer)
	select {
	case err := <-errc:
		return fmt.Errorf("tracker: serve: %w", err)
	case <-ctx.Done():
	}
	s.serving.Store(false) // a balancer stops sending while in-flight requests finish
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("tracker: shutdown: %w", err)
	}
	s.log.Info("tracker stopped accepting announces")
	return nil
}

func (s *Server) expireLoop(ctx context.Context) {
	t := time.NewTicker(s.cfg.ExpireEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n := s.core.Expire(); n > 0 {
				s.log.Debug("expired stale peers", "peers", n)
			}
		}
	}
}
