// Package ops owns the operations endpoints of a long-running stage, served
// on an admin address of their own, never on the public one: /metrics (the
// stage's Prometheus registry, with the Go runtime's and the process's
// collectors), /healthz (200 while the process answers) and /readyz (200
// when every readiness check of the stage passes, else 503 naming each that
// fails). A stage registers its metrics on Registry and its checks with
// Check; it may mount more routes on Router (the tracker's site control
// API). Several stages in one process may share one Server: their metric
// names differ and each check carries its stage's name.
package ops

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// CheckFunc reports why a stage cannot take work now (nil: it can). It must
// answer quickly: /readyz runs every check with a short deadline.
type CheckFunc func(ctx context.Context) error

// Server is one stage's (or one process's) operations endpoints.
type Server struct {
	reg    *prometheus.Registry
	router chi.Router
	log    *slog.Logger
	// routeMu: routes mounted while the listener serves (Mount) are added
	// under the write lock; requests are routed under the read lock.
	routeMu sync.RWMutex

	mu     sync.Mutex
	checks map[string]CheckFunc
}

// CheckTimeout bounds each readiness check of one /readyz request.
const CheckTimeout = 2 * time.Second

// New returns a server with a fresh registry (Go runtime, with the
// scheduler's latency histogram that tells CPU starvation apart from a
// stage's own time, and process collectors) and the three routes.
func New(log *slog.Logger) *Server {
	s := &Server{reg: prometheus.NewRegistry(), router: chi.NewRouter(), log: log, checks: map[string]CheckFunc{}}
	s.reg.MustRegister(
		collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(collectors.MetricsScheduler)),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s.router.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	s.router.Get("/readyz", s.readyz)
	s.router.Handle("/metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}))
	return s
}

// Registry is where the stage registers its metrics.
func (s *Server) Registry() *prometheus.Registry { return s.reg }

// Router is the admin listener's router: more routes may be mounted on it
// before Start or Serve; once the listener serves, use Mount.
func (s *Server) Router() chi.Router { return s.router }

// Mount lets f add routes to the router, also while the listener serves
// (chi's route tree is not safe to change while it routes requests).
func (s *Server) Mount(f func(r chi.Router)) {
	s.routeMu.Lock()
	defer s.routeMu.Unlock()
	f(s.router)
}

// route serves a request under the read lock of routeMu.
func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	s.routeMu.RLock()
	defer s.routeMu.RUnlock()
	s.router.ServeHTTP(w, r)
}

// Handler answers the admin listener's requests.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.route) }

// Check adds (or replaces) the readiness check called name.
func (s *Server) Check(name string, f CheckFunc) {
	s.mu.Lock()
	s.checks[name] = f
	s.mu.Unlock()
}

// Ready runs every check and joins the failures, each prefixed with its
// check's name, in name order.
func (s *Server) Ready(ctx context.Context) error {
	s.mu.Lock()
	names := make([]string, 0, len(s.checks))
	for n := range s.checks {
		names = append(names, n)
	}
	checks := make([]CheckFunc, len(names))
	sort.Strings(names)
	for i, n := range names {
		checks[i] = s.checks[n]
	}
	s.mu.Unlock()
	var errs []error
	for i, f := range checks {
		cctx, cancel := context.WithTimeout(ctx, CheckTimeout)
		err := f(cctx)
		cancel()
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", names[i], err))
		}
	}
	return errors.Join(errs...)
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := s.Ready(r.Context()); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(strings.TrimSpace(err.Error()) + "\n"))
		return
	}
	_, _ = w.Write([]byte("ready\n"))
}

// Serve answers on ln until ctx ends, then shuts down (waiting up to 5 s
// for requests in flight). A listener failure is returned.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           http.HandlerFunc(s.route),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second, // a site's control request may take a while
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("admin listener %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("admin listener %s: shutdown: %w", ln.Addr(), err)
	}
	return nil
}

// Start listens on addr and serves in the background until ctx ends. The
// function it returns waits for the listener to close (call it after ctx
// ends). An empty addr serves nothing: the registry and checks still work
// for a caller that shares them.
func (s *Server) Start(ctx context.Context, addr string) (wait func(), err error) {
	if addr == "" {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("admin listener: listen on %s: %w", addr, err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := s.Serve(ctx, ln); err != nil {
			s.log.Error("admin listener stopped", "err", err)
		}
	}()
	s.log.Info("admin listener: /metrics /healthz /readyz", "addr", ln.Addr().String())
	return func() { <-done }, nil
}
