// Package conntimeout owns the time limits of the tracker's public
// connections: a request must arrive within Request of its first byte (of
// the connection's accept, for the first), an answer must be written within
// Write, and a keep-alive connection may stay idle for Idle. One sweeper
// goroutine per listener enforces them by closing the connections that
// overstay, on a clock it ticks itself, instead of net/http's
// per-request deadlines (ReadHeaderTimeout, ReadTimeout, WriteTimeout,
// IdleTimeout: five runtime timer updates per request, measurable in the
// tracker's CPU per announce, docs/BENCHMARKS.md). A connection's own
// bookkeeping is a few atomic stores per request; limits are kept to
// within one tick (Limits.Tick).
//
// Serve the listener with tracker/wire's server, or with an http.Server
// whose own timeouts are zero.
package conntimeout

import (
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Limits are the connection time limits. Zero fields take the defaults.
type Limits struct {
	// Request: from a request's first byte to its answer being written
	// (the header, and for the tracker's GET requests the whole request);
	// also from accept to the first request. Default 5s.
	Request time.Duration
	// Write: one write of an answer to the connection. Default 10s.
	Write time.Duration
	// Idle: a keep-alive connection waiting for its next request.
	// Default 2m.
	Idle time.Duration
	// Tick: how often the limits are checked (the clock's resolution).
	// Default a fifth of the smallest limit, at most 1s.
	Tick time.Duration
}

// Defaults.
const (
	DefaultRequest = 5 * time.Second
	DefaultWrite   = 10 * time.Second
	DefaultIdle    = 2 * time.Minute
)

func (l Limits) withDefaults() Limits {
	if l.Request <= 0 {
		l.Request = DefaultRequest
	}
	if l.Write <= 0 {
		l.Write = DefaultWrite
	}
	if l.Idle <= 0 {
		l.Idle = DefaultIdle
	}
	if l.Tick <= 0 {
		l.Tick = min(l.Request, l.Write, l.Idle) / 5
		l.Tick = min(max(l.Tick, time.Millisecond), time.Second)
	}
	return l
}

// Listener wraps a net.Listener; its connections are closed when they
// overstay a limit.
type Listener struct {
	net.Listener
	lim   Limits
	start time.Time
	now   atomic.Int64 // ticks since start, advanced by the sweeper

	mu     sync.Mutex
	conns  map[*Conn]struct{}
	closed bool
	wake   chan struct{} // the sweeper waits on it while there is no connection
	done   chan struct{} // the sweeper ended
	// closedOverstaying counts the connections closed for a limit.
	closedOverstaying atomic.Uint64
}

// New wraps ln and starts its sweeper, which ends once the listener is
// closed and its last connection is.
func New(ln net.Listener, lim Limits) *Listener {
	l := &Listener{
		Listener: ln,
		lim:      lim.withDefaults(),
		start:    time.Now(),
		conns:    map[*Conn]struct{}{},
		wake:     make(chan struct{}, 1),
		done:     make(chan struct{}),
	}
	go l.sweep()
	return l
}

// Limits returns the limits in force (defaults filled).
func (l *Listener) Limits() Limits { return l.lim }

// Overstayed returns how many connections were closed for a limit.
func (l *Listener) Overstayed() uint64 { return l.closedOverstaying.Load() }

// Accept waits for a connection and tracks it.
func (l *Listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc := &Conn{Conn: c, l: l}
	tc.since.Store(l.tick())     // the clock may have stopped while there was no connection
	tc.state.Store(stateRequest) // the first request must come within Request
	l.mu.Lock()
	l.conns[tc] = struct{}{}
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
	return tc, nil
}

// Close closes the listener; connections already accepted keep their
// limits until they are closed.
func (l *Listener) Close() error {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
	return l.Listener.Close()
}

// Done is closed when the sweeper has ended (the listener and all its
// connections are closed).
func (l *Listener) Done() <-chan struct{} { return l.done }

func (l *Listener) sweep() {
	defer close(l.done)
	t := time.NewTicker(l.lim.Tick)
	defer t.Stop()
	limit := func(d time.Duration) int64 { return int64((d + l.lim.Tick - 1) / l.lim.Tick) }
	req, wr, idle := limit(l.lim.Request), limit(l.lim.Write), limit(l.lim.Idle)
	var over []*Conn
	for {
		l.mu.Lock()
		n, closed := len(l.conns), l.closed
		l.mu.Unlock()
		if n == 0 {
			if closed {
				return
			}
			<-l.wake // no connection: nothing to check
			continue
		}
		<-t.C
		now := l.tick()
		over = over[:0]
		l.mu.Lock()
		for c := range l.conns {
			if w := c.writing.Load(); w != 0 && now-(w-1) > wr {
				over = append(over, c)
				continue
			}
			switch since := c.since.Load(); c.state.Load() {
			case stateRequest:
				if now-since > req {
					over = append(over, c)
				}
			case stateIdle:
				if now-since > idle {
					over = append(over, c)
				}
			}
		}
		l.mu.Unlock()
		for _, c := range over {
			l.closedOverstaying.Add(1)
			_ = c.Close()
		}
		clear(over)
	}
}

// tick advances the clock to now and returns it.
func (l *Listener) tick() int64 {
	now := int64(time.Since(l.start) / l.lim.Tick)
	l.now.Store(now)
	return now
}

func (l *Listener) forget(c *Conn) {
	l.mu.Lock()
	delete(l.conns, c)
	l.mu.Unlock()
}

const (
	stateIdle    = 0 // answered, waiting for the next request
	stateRequest = 1 // a request (or the first one) is being read or answered
)

// Conn is a connection of a Listener.
type Conn struct {
	net.Conn
	l *Listener
	// state and since: stateIdle since the last answer's write ended,
	// or stateRequest since the request's first byte (since: sweeper ticks).
	state atomic.Int32
	since atomic.Int64
	// writing is 1 + the tick a write started at, 0 outside writes.
	writing   atomic.Int64
	closeOnce sync.Once
	closeErr  error
}

// Read reads; the first bytes after an answer start a request.
func (c *Conn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 && c.state.Load() == stateIdle {
		c.since.Store(c.l.now.Load())
		c.state.Store(stateRequest)
	}
	return n, err
}

// Write writes (an answer, or its end): the connection is idle afterwards.
func (c *Conn) Write(b []byte) (int, error) {
	c.writing.Store(c.l.now.Load() + 1)
	n, err := c.Conn.Write(b)
	c.writing.Store(0)
	c.since.Store(c.l.now.Load())
	c.state.Store(stateIdle)
	return n, err
}

// Close closes the connection and stops tracking it.
func (c *Conn) Close() error {
	c.closeOnce.Do(func() {
		c.closeErr = c.Conn.Close()
		c.l.forget(c)
	})
	return c.closeErr
}

// CloseWrite shuts down the writing side when the connection supports it
// (net/http uses it to close a connection gracefully).
func (c *Conn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.ErrUnsupported
}
