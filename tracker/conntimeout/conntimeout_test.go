package conntimeout_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ratioguard/ratioguard/tracker/conntimeout"
)

// serve starts an http.Server without timeouts of its own on a Listener
// with lim; it answers "ok" to every request.
func serve(t *testing.T, lim conntimeout.Limits) *conntimeout.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := conntimeout.New(ln, lim)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok")
	})}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() {
		_ = srv.Close()
		select {
		case <-l.Done():
		case <-time.After(10 * time.Second):
			t.Error("the sweeper did not end after the listener and its connections were closed")
		}
	})
	return l
}

func dial(t *testing.T, l *conntimeout.Listener) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

const get = "GET /x HTTP/1.1\r\nHost: t\r\n\r\n"

// answer sends one request and reads its answer.
func answer(t *testing.T, c net.Conn, br *bufio.Reader) {
	t.Helper()
	if _, err := io.WriteString(c, get); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("read answer: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "ok" {
		t.Fatalf("answer %q", b)
	}
}

// waitClosed reads until the server closes c (bounded by a generous
// deadline so that a failure does not hang the test).
func waitClosed(t *testing.T, c net.Conn) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("the server did not close the connection")
	}
}

func TestStalledRequestIsClosed(t *testing.T) {
	l := serve(t, conntimeout.Limits{Request: 100 * time.Millisecond, Write: time.Minute, Idle: time.Minute})
	c := dial(t, l)
	if _, err := io.WriteString(c, "GET /x HTTP/1.1\r\nHost:"); err != nil { // and nothing more
		t.Fatal(err)
	}
	waitClosed(t, c)
	if n := l.Overstayed(); n != 1 {
		t.Fatalf("overstayed = %d, want 1", n)
	}
}

func TestSilentNewConnectionIsClosed(t *testing.T) {
	l := serve(t, conntimeout.Limits{Request: 100 * time.Millisecond, Write: time.Minute, Idle: time.Minute})
	waitClosed(t, dial(t, l))
	if n := l.Overstayed(); n != 1 {
		t.Fatalf("overstayed = %d, want 1", n)
	}
}

func TestIdleKeepAliveIsClosed(t *testing.T) {
	l := serve(t, conntimeout.Limits{Request: time.Minute, Write: time.Minute, Idle: 100 * time.Millisecond})
	c := dial(t, l)
	br := bufio.NewReader(c)
	answer(t, c, br)
	waitClosed(t, c)
	if n := l.Overstayed(); n != 1 {
		t.Fatalf("overstayed = %d, want 1", n)
	}
}

// A keep-alive connection whose requests each arrive whole lives longer
// than the request limit: the limit is per request, not per connection.
func TestKeepAliveOutlivesRequestLimit(t *testing.T) {
	lim := conntimeout.Limits{Request: 200 * time.Millisecond, Write: time.Minute, Idle: time.Minute}
	l := serve(t, lim)
	c := dial(t, l)
	br := bufio.NewReader(c)
	end := time.Now().Add(3 * lim.Request)
	n := 0
	for time.Now().Before(end) {
		answer(t, c, br)
		n++
		time.Sleep(lim.Request / 4)
	}
	answer(t, c, br)
	if got := l.Overstayed(); got != 0 {
		t.Fatalf("overstayed = %d after %d requests on a live connection, want 0", got, n+1)
	}
}

// A write the peer does not take (it never reads) is cut at the write limit.
func TestStalledWriteIsClosed(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := conntimeout.New(ln, conntimeout.Limits{Request: time.Minute, Write: 100 * time.Millisecond, Idle: time.Minute})
	defer l.Close()
	c := dial(t, l) // never reads
	sc, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	chunk := []byte(strings.Repeat("x", 1<<20))
	errc := make(chan error, 1)
	go func() {
		for {
			if _, err := sc.Write(chunk); err != nil {
				errc <- err
				return
			}
		}
	}()
	select {
	case err := <-errc:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("write error %v, want the connection closed", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("a stalled write was not cut")
	}
	if n := l.Overstayed(); n != 1 {
		t.Fatalf("overstayed = %d, want 1", n)
	}
	_ = c.Close()
}

func TestDefaults(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := conntimeout.New(ln, conntimeout.Limits{})
	defer l.Close()
	got := l.Limits()
	want := conntimeout.Limits{Request: conntimeout.DefaultRequest, Write: conntimeout.DefaultWrite, Idle: conntimeout.DefaultIdle, Tick: time.Second}
	if got != want {
		t.Fatalf("limits %+v, want %+v", got, want)
	}
}
