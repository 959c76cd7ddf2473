// Package wire is the tracker's own HTTP/1.1 server for its public announce
// listener, in place of net/http, whose connection handling costs more than
// the whole announce (docs/BENCHMARKS.md, "Server CPU per announce"), as
// opentracker, Ocelot and XBT run their own HTTP loops.
//
// One goroutine per connection, with a pooled read buffer and buffered
// writer; the request line and headers are parsed in place into the
// frontend's request view (frontend.Request) without allocating, and the
// frontend answers through the connection (frontend.ResponseWriter). It
// speaks just what the announce port needs: GET (HEAD answered 405 without
// a body, like every other method), no request bodies (413, then the
// connection is closed), a head of at most MaxHeaderBytes (else 431),
// anything malformed 400 and closed, keep-alive by HTTP/1.1's rules
// (HTTP/1.0 closes unless it asks for keep-alive; Connection: close is
// honoured), and pipelined requests answered in order with one flush once
// no complete request is left in the read buffer. The connections' time
// limits are tracker/conntimeout's: serve a conntimeout.Listener. Shutdown
// stops accepting, closes idle connections and waits for the requests in
// flight, as net/http's does.
//
// NewStd builds the net/http server the tracker serves the same handler
// with instead (ratioguard tracker --http-server std).
package wire

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ratioguard/ratioguard/tracker/frontend"
)

// ErrServerClosed is returned by Serve after Shutdown (net/http's, so that
// callers treat both servers alike).
var ErrServerClosed = http.ErrServerClosed

// Server serves a frontend.Handler over HTTP/1.1.
type Server struct {
	handler frontend.Handler
	log     *slog.Logger

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[*conn]struct{}
	shutting  atomic.Bool
}

// New returns a server answering with h.
func New(h frontend.Handler, log *slog.Logger) *Server {
	return &Server{handler: h, log: log, listeners: map[net.Listener]struct{}{}, conns: map[*conn]struct{}{}}
}

// NewStd returns the net/http server the tracker answers with h instead of
// a Server (--http-server std): the same header limit, no per-request
// timeouts (conntimeout keeps them).
func NewStd(h frontend.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:        frontend.HTTPHandler(h),
		MaxHeaderBytes: MaxHeaderBytes,
		ErrorLog:       slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
}

// Buffer sizes: a connection reads into a small buffer, and into one of
// MaxHeaderBytes only for a head that does not fit.
const (
	smallBuffer = 4 << 10
	writeBuffer = 4 << 10
	// lingerTime and lingerBytes: after refusing a request, the server
	// stops writing and reads what the client still sends for a while
	// before closing, so that the refusal is not lost to a TCP reset.
	lingerTime  = 500 * time.Millisecond
	lingerBytes = 256 << 10
)

var (
	smallPool  = sync.Pool{New: func() any { return new([smallBuffer]byte) }}
	largePool  = sync.Pool{New: func() any { return new([MaxHeaderBytes]byte) }}
	writerPool = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, writeBuffer) }}
)

// Serve accepts connections on ln and answers them, each in its own
// goroutine, until Shutdown (then it returns ErrServerClosed) or an
// accept error that is not temporary.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.shutting.Load() {
		s.mu.Unlock()
		return ErrServerClosed
	}
	s.listeners[ln] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, ln)
		s.mu.Unlock()
	}()
	var delay time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.shutting.Load() {
				return ErrServerClosed
			}
			if errors.Is(err, net.ErrClosed) {
				return fmt.Errorf("wire: accept: %w", err)
			}
			// Out of file descriptors and the like: wait and retry, as
			// net/http does.
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			s.log.Warn("accept failed; retrying", "err", err, "in", delay)
			time.Sleep(delay)
			continue
		}
		delay = 0
		c := s.track(nc)
		if c == nil {
			_ = nc.Close()
			return ErrServerClosed
		}
		go c.serve()
	}
}

// track registers a new connection (nil once shutting down).
func (s *Server) track(nc net.Conn) *conn {
	c := &conn{s: s, nc: nc}
	switch a := nc.RemoteAddr().(type) {
	case *net.TCPAddr:
		c.req.RemoteAddr = a.AddrPort()
	case nil:
	default:
		c.req.RemoteAddr, _ = netip.ParseAddrPort(a.String())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shutting.Load() {
		return nil
	}
	s.conns[c] = struct{}{}
	return c
}

// Shutdown stops accepting, closes the idle connections and waits for the
// others to finish their request (each is closed after its answer), until
// ctx ends: then it returns ctx's error, as net/http's Shutdown does.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.shutting.Store(true)
	var err error
	for ln := range s.listeners {
		if cerr := ln.Close(); cerr != nil && !errors.Is(cerr, net.ErrClosed) {
			err = cerr
		}
	}
	s.mu.Unlock()
	wait := time.Millisecond
	for !s.closeIdle() {
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		wait = min(2*wait, 500*time.Millisecond)
	}
	return err
}

// closeIdle closes the connections waiting for a request; true when no
// connection is left.
func (s *Server) closeIdle() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		if c.state.CompareAndSwap(stateIdle, stateClosed) {
			_ = c.nc.Close()
		}
	}
	return len(s.conns) == 0
}

// Connection states, for Shutdown.
const (
	stateIdle   = 0 // waiting for a request's first byte
	stateActive = 1 // reading, answering
	stateClosed = 2 // closed by Shutdown while idle
)

var (
	errTooLarge = errors.New("request head too large")
	errShutdown = errors.New("server shutting down")
)

// conn is one connection and its buffers.
type conn struct {
	s     *Server
	nc    net.Conn
	state atomic.Int32

	buf     []byte // buf[r:w] is read and not yet answered
	r, w    int
	scanned int // bytes of buf[r:w] searched for the end of a head
	small   *[smallBuffer]byte
	large   *[MaxHeaderBytes]byte // while a head does not fit in small
	bw      *bufio.Writer

	req      frontend.Request
	h        head
	ua       string // the last User-Agent, owned (the core keeps it in the event)
	keep     bool   // the connection stays open after this answer
	answered bool
	hdr      []byte // the answer's status line and headers
	date     [len(http.TimeFormat)]byte
	dateSec  int64
}

func (c *conn) serve() {
	c.small = smallPool.Get().(*[smallBuffer]byte)
	c.buf = c.small[:]
	c.bw = writerPool.Get().(*bufio.Writer)
	c.bw.Reset(c.nc)
	defer c.close()
	defer func() {
		if v := recover(); v != nil {
			c.s.log.Error("panic in the HTTP server; connection closed", "panic", v)
		}
	}()
	for {
		n, err := c.readHead()
		if err != nil {
			if errors.Is(err, errTooLarge) {
				c.fail(http.StatusRequestHeaderFieldsTooLarge, "")
			}
			return
		}
		if bad := parseHead(c.buf[c.r:c.r+n], &c.req, &c.h); bad != nil {
			c.fail(bad.status, bad.reason)
			return
		}
		c.req.UserAgent = c.userAgent(c.h.userAgent)
		c.keep = !c.h.close
		c.answered = false
		c.s.handler.ServeTracker(c, &c.req)
		if !c.answered {
			c.WriteAnswer(http.StatusOK, nil)
		}
		c.r += n
		c.scanned = 0
		if !c.keep {
			if c.bw.Flush() == nil && c.r < c.w {
				c.linger() // unread bytes: a reset would lose the answer
			}
			return
		}
	}
}

// readHead returns the length of the next complete head at buf[r:],
// reading as needed; before a read that may block it flushes the answers
// written so far.
func (c *conn) readHead() (int, error) {
	for {
		if c.w > c.r {
			if n := findHeadEnd(c.buf[c.r:c.w], c.scanned); n > 0 {
				return n, nil
			}
			c.scanned = c.w - c.r
			if c.scanned >= MaxHeaderBytes {
				return 0, errTooLarge
			}
		} else {
			c.r, c.w = 0, 0
			if c.large != nil {
				largePool.Put(c.large)
				c.large, c.buf = nil, c.small[:]
			}
		}
		if c.bw.Buffered() > 0 {
			if err := c.bw.Flush(); err != nil {
				return 0, err
			}
		}
		if c.w == len(c.buf) {
			c.makeRoom()
		}
		idle := c.r == c.w
		if idle {
			c.state.Store(stateIdle)
			if c.s.shutting.Load() {
				return 0, errShutdown
			}
		}
		m, err := c.nc.Read(c.buf[c.w:])
		if idle && !c.state.CompareAndSwap(stateIdle, stateActive) {
			return 0, errShutdown // closed by Shutdown
		}
		c.w += m
		if err != nil && m == 0 {
			return 0, err
		}
	}
}

// makeRoom moves the unread bytes to the front of the buffer, or into the
// large buffer when they fill the small one.
func (c *conn) makeRoom() {
	if c.r > 0 {
		c.w = copy(c.buf, c.buf[c.r:c.w])
		c.r = 0
		return
	}
	c.large = largePool.Get().(*[MaxHeaderBytes]byte)
	c.w = copy(c.large[:], c.buf[:c.w])
	c.buf = c.large[:]
}

// userAgent returns b as a string the connection owns, the previous one
// when it is the same (a keep-alive client sends the same every time).
func (c *conn) userAgent(b []byte) string {
	if string(b) != c.ua {
		c.ua = string(b)
	}
	return c.ua
}

// WriteAnswer writes the answer to the request being served.
func (c *conn) WriteAnswer(status int, body []byte) {
	if c.answered {
		return
	}
	c.answered = true
	if frontend.CloseAfter(status) || c.s.shutting.Load() {
		c.keep = false
	}
	b := c.hdr[:0]
	switch {
	case status == http.StatusOK && c.h.proto11:
		b = append(b, "HTTP/1.1 200 OK\r\n"...)
	case status == http.StatusOK:
		b = append(b, "HTTP/1.0 200 OK\r\n"...)
	default:
		// net/http answers in the request's version.
		if c.h.proto11 {
			b = append(b, "HTTP/1.1 "...)
		} else {
			b = append(b, "HTTP/1.0 "...)
		}
		b = strconv.AppendInt(b, int64(status), 10)
		b = append(b, ' ')
		b = append(b, http.StatusText(status)...)
		b = append(b, "\r\n"...)
	}
	b = append(b, "Content-Type: text/plain\r\n"...)
	if status == http.StatusMethodNotAllowed {
		b = append(b, "Allow: "+frontend.AllowHeader+"\r\n"...)
	}
	b = append(b, "Date: "...)
	b = append(b, c.now()...)
	b = append(b, "\r\nContent-Length: "...)
	b = strconv.AppendInt(b, int64(len(body)), 10)
	switch {
	case !c.keep && c.h.proto11:
		b = append(b, "\r\nConnection: close"...)
	case c.keep && !c.h.proto11:
		b = append(b, "\r\nConnection: keep-alive"...)
	}
	b = append(b, "\r\n\r\n"...)
	c.hdr = b
	_, _ = c.bw.Write(b)
	if !c.h.head {
		_, _ = c.bw.Write(body)
	}
}

// now is the Date header's value, formatted once a second.
func (c *conn) now() []byte {
	t := time.Now()
	if s := t.Unix(); s != c.dateSec {
		c.dateSec = s
		t.UTC().AppendFormat(c.date[:0], http.TimeFormat)
	}
	return c.date[:]
}

// fail answers a request the server refuses itself, as net/http words it,
// and closes the connection.
func (c *conn) fail(status int, reason string) {
	msg := strconv.Itoa(status) + " " + http.StatusText(status)
	body := msg
	if reason != "" {
		body += ": " + reason
	}
	_, _ = c.bw.WriteString("HTTP/1.1 " + msg + "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n" + body)
	if c.bw.Flush() == nil {
		c.linger()
	}
}

// linger stops writing and reads (at most lingerBytes for lingerTime) what
// the client still sends, so that closing with unread bytes does not reset
// the connection before the client has read the answer.
func (c *conn) linger() {
	if cw, ok := c.nc.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
	_ = c.nc.SetReadDeadline(time.Now().Add(lingerTime))
	_, _ = io.CopyN(io.Discard, c.nc, lingerBytes)
}

func (c *conn) close() {
	_ = c.nc.Close()
	c.s.mu.Lock()
	delete(c.s.conns, c)
	c.s.mu.Unlock()
	c.bw.Reset(nil)
	writerPool.Put(c.bw)
	smallPool.Put(c.small)
	if c.large != nil {
		largePool.Put(c.large)
	}
	c.buf, c.bw, c.small, c.large = nil, nil, nil, nil
	c.req, c.h = frontend.Request{}, head{}
}
