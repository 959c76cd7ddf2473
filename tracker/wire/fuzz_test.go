package wire

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ratioguard/ratioguard/tracker/frontend"
)

var fuzzSeeds = []string{
	"GET /pk/announce?info_hash=%41&port=1 HTTP/1.1\r\nHost: x\r\nUser-Agent: qB\r\nX-Forwarded-For: 1.2.3.4\r\nX-Forwarded-For: ::1\r\n\r\n",
	"GET http://h/a%2fb/announce HTTP/1.0\nConnection: keep-alive, close\n\n",
	"HEAD / HTTP/1.1\r\nHost: x\r\nContent-Length: 12\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\nGET",
	"\r\n\r\n", "GET / HTTP/9.9\r\n\r\n", "GET  / HTTP/1.1\r\n\r\n", "G\x00T / HTTP/1.1\r\nHost: x\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n",
}

// FuzzParseHead: any bytes either hold no complete head, or parse into a
// request or a refusal, without panicking or reading past the head (it is
// given a slice of exactly its length). Searching a head from where an
// earlier search of a prefix stopped finds the same end.
func FuzzParseHead(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s), uint16(7))
	}
	f.Fuzz(func(t *testing.T, b []byte, split uint16) {
		n := findHeadEnd(b, 0)
		if k := int(split) % (len(b) + 1); findHeadEnd(b[:k], 0) < 0 {
			if m := findHeadEnd(b, k); m != n {
				t.Fatalf("head end %d searching from %d, %d from the start", m, k, n)
			}
		}
		if n < 0 {
			return
		}
		if n > len(b) || n < 2 || b[n-1] != '\n' {
			t.Fatalf("head end %d of %d bytes", n, len(b))
		}
		h := bytes.Clone(b[:n])
		var r frontend.Request
		var hd head
		if bad := parseHead(h[:n:n], &r, &hd); bad != nil {
			if bad.status < 400 || bad.reason == "" {
				t.Fatalf("refusal %+v", bad)
			}
			return
		}
		if r.Method == "" || len(hd.userAgent) > n || len(r.ForwardedFor) > n {
			t.Fatalf("request %+v from %q", r, h)
		}
	})
}

// FuzzConn: a connection fed any bytes, in reads of any size, answers and
// ends without panicking and never holds more than MaxHeaderBytes of a head.
func FuzzConn(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s), uint8(3))
	}
	f.Add([]byte("GET / HTTP/1.1\r\nHost: x\r\nX: "+strings.Repeat("a", 20<<10)+"\r\n\r\n"), uint8(200))
	f.Fuzz(func(t *testing.T, b []byte, chunk uint8) {
		var panics atomic.Int32
		log := slog.New(panicCounter{&panics})
		var answered int
		h := frontend.HandlerFunc(func(w frontend.ResponseWriter, r *frontend.Request) {
			answered++
			w.WriteAnswer(200, []byte(r.URL.Path))
		})
		s := New(h, log)
		nc := &fakeConn{r: bytes.NewReader(b), chunk: int(chunk)%64 + 1}
		c := s.track(nc)
		c.serve()
		if panics.Load() != 0 {
			t.Fatalf("the connection panicked on %q", b)
		}
		if answered > bytes.Count(b, []byte("\n")) {
			t.Fatalf("%d answers to %q", answered, b)
		}
		if !nc.closed {
			t.Fatal("connection left open")
		}
	})
}

type panicCounter struct{ n *atomic.Int32 }

func (p panicCounter) Enabled(context.Context, slog.Level) bool { return true }
func (p panicCounter) Handle(_ context.Context, r slog.Record) error {
	if strings.Contains(r.Message, "panic") {
		p.n.Add(1)
	}
	return nil
}
func (p panicCounter) WithAttrs([]slog.Attr) slog.Handler { return p }
func (p panicCounter) WithGroup(string) slog.Handler      { return p }

// fakeConn reads from r at most chunk bytes at a time, then EOF; writes are
// discarded.
type fakeConn struct {
	r      *bytes.Reader
	chunk  int
	closed bool
}

func (c *fakeConn) Read(b []byte) (int, error) {
	if len(b) > c.chunk {
		b = b[:c.chunk]
	}
	n, err := c.r.Read(b)
	if err == io.EOF && n > 0 {
		err = nil
	}
	return n, err
}
func (c *fakeConn) Write(b []byte) (int, error)      { return len(b), nil }
func (c *fakeConn) Close() error                     { c.closed = true; return nil }
func (c *fakeConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *fakeConn) RemoteAddr() net.Addr             { return &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 1} }
func (c *fakeConn) SetDeadline(time.Time) error      { return nil }
func (c *fakeConn) SetReadDeadline(time.Time) error  { return nil }
func (c *fakeConn) SetWriteDeadline(time.Time) error { return nil }

// BenchmarkServeInPlace: the server's own cost per request, without the
// network or a handler's: a connection (fakeConn) holding b.N keep-alive
// requests as a client sends them, each answered by a handler that writes
// a fixed answer. allocs/op is the server's allocations per request (the
// connection's buffers are pooled, its few one-off allocations amortized).
func BenchmarkServeInPlace(b *testing.B) {
	req := "GET /0123456789abcdef0123456789abcdef/announce?info_hash=%de%ad%be%ef%25%26%3d%2b+%00%01%02%03%04%05%06%07%08%09%0a" +
		"&peer_id=-qB4650-aaaaaaaaaaaa&port=6881&uploaded=0&downloaded=0&left=0&compact=1 HTTP/1.1\r\n" +
		"Host: 127.0.0.1\r\nUser-Agent: qBittorrent/4.6.5\r\nAccept-Encoding: gzip\r\nConnection: keep-alive\r\n\r\n"
	in := []byte(strings.Repeat(req, b.N))
	answer := []byte("d8:completei5e10:incompletei3e8:intervali1800e12:min intervali900e5:peers0:e")
	var n int
	s := New(frontend.HandlerFunc(func(w frontend.ResponseWriter, r *frontend.Request) {
		n++
		w.WriteAnswer(200, answer)
	}), slog.New(slog.NewTextHandler(io.Discard, nil)))
	c := s.track(&fakeConn{r: bytes.NewReader(in), chunk: len(req)})
	b.ReportAllocs()
	b.ResetTimer()
	c.serve()
	if n != b.N {
		b.Fatalf("%d answers to %d requests", n, b.N)
	}
}
