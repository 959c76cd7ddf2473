package wire_test

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
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ratioguard/ratioguard/schemas/events"
	"github.com/ratioguard/ratioguard/tracker/bencode"
	"github.com/ratioguard/ratioguard/tracker/conntimeout"
	"github.com/ratioguard/ratioguard/tracker/core"
	"github.com/ratioguard/ratioguard/tracker/frontend"
	"github.com/ratioguard/ratioguard/tracker/policy"
	"github.com/ratioguard/ratioguard/tracker/wire"
)

// The conformance suite: the same raw requests go to the tracker's frontend
// served by net/http (wire.NewStd) and by wire.Server, each over a
// conntimeout listener as tracker.Serve sets them up, and both must answer
// alike (status, the headers that matter, body, whether the connection is
// closed), and as the case expects.

const pk1, pk2 = "0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210"

var ih = [20]byte{0xde, 0xad, 0xbe, 0xef, '%', '&', '=', '+', ' ', 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}

type memSink struct {
	mu  sync.Mutex
	evs []*events.Announce
}

func (s *memSink) Publish(ev *events.Announce) { s.mu.Lock(); s.evs = append(s.evs, ev); s.mu.Unlock() }

func (s *memSink) last() *events.Announce {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.evs) == 0 {
		return &events.Announce{}
	}
	return s.evs[len(s.evs)-1]
}

// server is one of the two servers under test, with its own tracker.
type server struct {
	kind     string
	addr     string
	sink     *memSink
	shutdown func() error // Shutdown within 10 s, and Serve's error unless ErrServerClosed
}

type setup struct {
	network string // "tcp4" or "tcp6"
	trusted []netip.Prefix
	limits  conntimeout.Limits
	wrap    func(frontend.Handler) frontend.Handler
}

func startServers(t *testing.T, s setup) []*server {
	t.Helper()
	var out []*server
	for _, kind := range []string{"std", "wire"} {
		cache := policy.NewCache()
		cache.PutUser(pk1, &core.User{ID: 1, Enabled: true, CanLeech: true})
		cache.PutUser(pk2, &core.User{ID: 2, Enabled: true, CanLeech: true})
		cache.PutTorrent(ih, &core.Torrent{ID: 5, Promotion: core.NoPromotion})
		sink := &memSink{}
		c := core.New(core.Config{Interval: time.Minute, MinInterval: time.Second}, cache, sink, core.SystemClock{})
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		fe, err := frontend.New(c, frontend.Config{TrustedProxies: s.trusted}, prometheus.NewRegistry(), log)
		if err != nil {
			t.Fatal(err)
		}
		host := "127.0.0.1:0"
		if s.network == "tcp6" {
			host = "[::1]:0"
		}
		ln, err := net.Listen(s.network, host)
		if err != nil {
			t.Skipf("no %s loopback: %v", s.network, err)
		}
		var h frontend.Handler = fe
		if s.wrap != nil {
			h = s.wrap(h)
		}
		var srv interface {
			Serve(net.Listener) error
			Shutdown(context.Context) error
		}
		if kind == "std" {
			srv = wire.NewStd(h, log)
		} else {
			srv = wire.New(h, log)
		}
		served := make(chan error, 1)
		go func() { served <- srv.Serve(conntimeout.New(ln, s.limits)) }()
		shutdown := sync.OnceValue(func() error {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := srv.Shutdown(ctx); err != nil {
				return fmt.Errorf("%s: shutdown: %w", kind, err)
			}
			if err := <-served; !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("%s: serve returned %w", kind, err)
			}
			return nil
		})
		t.Cleanup(func() {
			if err := shutdown(); err != nil {
				t.Error(err)
			}
		})
		out = append(out, &server{kind: kind, addr: ln.Addr().String(), sink: sink, shutdown: shutdown})
	}
	return out
}

// answer is what a case compares of one response.
type answer struct {
	status                            int
	contentType, contentLength, allow string
	connection                        string
	date                              bool
	body                              string
}

// result is what a case compares of one connection.
type result struct {
	answers []answer
	closed  bool // the server closed the connection after the answers
}

// exchange is one connection's traffic: requests written one after the
// other (each after the previous answer), or all at once when pipelined.
type exchange struct {
	reqs      []string
	pipelined bool
	// answers expected (default len(reqs)); fewer when the server closes.
	answers int
}

func (x exchange) run(t *testing.T, addr string) result {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// A guard against a hung server, not a timing assertion.
	_ = c.SetDeadline(time.Now().Add(60 * time.Second))
	br := bufio.NewReader(c)
	n := x.answers
	if n == 0 {
		n = len(x.reqs)
	}
	var res result
	read := func(req string) {
		method, _, _ := strings.Cut(req, " ")
		resp, err := http.ReadResponse(br, &http.Request{Method: method})
		if err != nil {
			t.Fatalf("reading the answer to %.60q: %v", req, err)
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("reading the body of the answer to %.60q: %v", req, err)
		}
		conn := resp.Header.Get("Connection") // ReadResponse takes "close" out
		if resp.Close && conn == "" {
			conn = "close"
		}
		res.answers = append(res.answers, answer{
			status: resp.StatusCode, contentType: resp.Header.Get("Content-Type"),
			contentLength: resp.Header.Get("Content-Length"), allow: resp.Header.Get("Allow"),
			connection: conn, date: resp.Header.Get("Date") != "", body: string(body),
		})
	}
	if x.pipelined {
		if _, err := io.WriteString(c, strings.Join(x.reqs, "")); err != nil {
			t.Fatal(err)
		}
		for i := range n {
			read(x.reqs[i])
		}
	} else {
		for i, req := range x.reqs {
			if _, err := io.WriteString(c, req); err != nil {
				t.Fatal(err)
			}
			if i < n {
				read(req)
			}
		}
	}
	res.closed = isClosed(t, c, br)
	return res
}

// isClosed: the server closed c (EOF or reset), rather than leaving it
// open (a read waiting 200 ms for nothing).
func isClosed(t *testing.T, c net.Conn, br *bufio.Reader) bool {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	for {
		b, err := br.ReadByte()
		if err == nil {
			t.Fatalf("unexpected byte %q after the answers", b)
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return false
		}
		return true
	}
}

func announceQuery(pid string, port int, left int) string {
	return "info_hash=" + url.QueryEscape(string(ih[:])) + "&peer_id=" + url.QueryEscape(pid) +
		fmt.Sprintf("&port=%d&uploaded=0&downloaded=0&left=%d&compact=1", port, left)
}

// get is a GET request of target with the headers a client sends (Host,
// User-Agent) and extra ones.
func get(target string, extra ...string) string {
	return "GET " + target + " HTTP/1.1\r\nHost: tracker.example\r\nUser-Agent: qBittorrent/4.6.5\r\n" + headers(extra) + "\r\n"
}

func headers(h []string) string {
	var b strings.Builder
	for _, l := range h {
		b.WriteString(l + "\r\n")
	}
	return b.String()
}

var (
	announce1 = "/" + pk1 + "/announce?" + announceQuery("-qB4650-aaaaaaaaaaaa", 6881, 0)
	announce2 = "/" + pk2 + "/announce?" + announceQuery("-qB4650-bbbbbbbbbbbb", 6882, 5)
	scrape1   = "/" + pk1 + "/scrape?info_hash=" + url.QueryEscape(string(ih[:]))
)

// failure is an answer's failure reason ("" when it has none).
func failure(t *testing.T, a answer) string {
	t.Helper()
	v, err := bencode.Decode([]byte(a.body))
	if err != nil {
		t.Fatalf("answer %q is not bencoded: %v", a.body, err)
	}
	reason, _ := v.(map[string]any)["failure reason"].(string)
	return reason
}

func dict(t *testing.T, a answer) map[string]any {
	t.Helper()
	v, err := bencode.Decode([]byte(a.body))
	if err != nil {
		t.Fatalf("answer %q is not bencoded: %v", a.body, err)
	}
	return v.(map[string]any)
}

// tracker answers: 200, text/plain, a Date, a Content-Length.
func isTrackerAnswer(a answer, status int) bool {
	return a.status == status && a.contentType == "text/plain" && a.date && a.contentLength == fmt.Sprint(len(a.body))
}

type conformanceCase struct {
	name  string
	setup setup
	x     exchange
	// check asserts what the case expects of a server's result (its
	// events in s.sink).
	check func(t *testing.T, s *server, r result)
}

func TestConformance(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	accepted := func(want uint64) func(*testing.T, *server, result) {
		return func(t *testing.T, s *server, r result) {
			a := r.answers[0]
			if !isTrackerAnswer(a, 200) || failure(t, a) != "" || r.closed {
				t.Errorf("answer %+v, closed %v: want an accepted announce on an open connection", a, r.closed)
			}
			if ev := s.sink.last(); ev.UserId != want || ev.Refusal != 0 {
				t.Errorf("event of user %d refusal %v, want user %d accepted", ev.UserId, ev.Refusal, want)
			}
		}
	}
	refused := func(status int, want string, closed bool) func(*testing.T, *server, result) {
		return func(t *testing.T, s *server, r result) {
			a := r.answers[len(r.answers)-1]
			if !isTrackerAnswer(a, status) || !strings.Contains(failure(t, a), want) || r.closed != closed {
				t.Errorf("answer %+v, closed %v: want %d with a failure reason naming %q, closed %v", a, r.closed, status, want, closed)
			}
		}
	}
	// refusedByServer: refused before the frontend, in net/http's words.
	refusedByServer := func(status int) func(*testing.T, *server, result) {
		return func(t *testing.T, s *server, r result) {
			a := r.answers[0]
			if a.status != status || a.connection != "close" || !strings.HasPrefix(a.body, fmt.Sprint(status)+" "+http.StatusText(status)) || !r.closed {
				t.Errorf("answer %+v, closed %v: want %d and the connection closed", a, r.closed, status)
			}
		}
	}
	clientAddr := func(want string) func(*testing.T, *server, result) {
		return func(t *testing.T, s *server, r result) {
			if got, _ := netip.AddrFromSlice(s.sink.last().Ip); got.String() != want || failure(t, r.answers[0]) != "" {
				t.Errorf("event address %s (answer %q), want %s", got, r.answers[0].body, want)
			}
		}
	}
	escaped := "/" + pk1[:10] + "%61" + pk1[11:] + "/announce?" + announceQuery("-qB4650-aaaaaaaaaaaa", 6881, 0)
	q := announceQuery("-qB4650-aaaaaaaaaaaa", 6881, 0)
	for _, tc := range []conformanceCase{
		{name: "announce", x: exchange{reqs: []string{get(announce1)}}, check: accepted(1)},
		{name: "announce UNIT3D", x: exchange{reqs: []string{get("/announce/" + pk2 + "?" + q)}}, check: accepted(2)},
		{name: "announce NexusPHP", x: exchange{reqs: []string{get("/announce.php?" + q + "&passkey=" + pk2)}}, check: accepted(2)},
		{name: "announce escaped passkey", x: exchange{reqs: []string{get(escaped)}}, check: accepted(1)},
		{name: "announce absolute form", x: exchange{reqs: []string{get("http://tracker.example" + announce1)}}, check: accepted(1)},
		{name: "scrape", x: exchange{reqs: []string{get(announce1), get(announce2), get(scrape1)}},
			check: func(t *testing.T, s *server, r result) {
				files, _ := dict(t, r.answers[2])["files"].(map[string]any)
				st, _ := files[string(ih[:])].(map[string]any)
				if !isTrackerAnswer(r.answers[2], 200) || st["complete"] != int64(1) || st["incomplete"] != int64(1) {
					t.Errorf("scrape %+v", r.answers[2])
				}
			}},
		{name: "scrape NexusPHP", x: exchange{reqs: []string{get(announce1), get("/scrape.php?passkey=" + pk1 + "&info_hash=" + url.QueryEscape(string(ih[:])))}},
			check: func(t *testing.T, s *server, r result) {
				if files, _ := dict(t, r.answers[1])["files"].(map[string]any); len(files) != 1 {
					t.Errorf("scrape %+v", r.answers[1])
				}
			}},
		{name: "scrape bad passkey", x: exchange{reqs: []string{get("/nope/scrape?info_hash=" + url.QueryEscape(string(ih[:])))}}, check: refused(200, "passkey", false)},
		{name: "not a tracker URL", x: exchange{reqs: []string{get("/healthz")}}, check: refused(200, "not a tracker URL", false)},
		{name: "root", x: exchange{reqs: []string{get("/")}}, check: refused(200, "not a tracker URL", false)},
		{name: "malformed announce", x: exchange{reqs: []string{get("/" + pk1 + "/announce?port=1")}}, check: refused(200, "missing parameter", false)},
		{name: "unknown passkey", x: exchange{reqs: []string{get("/" + strings.Repeat("0", 32) + "/announce?" + q)}}, check: refused(200, "unknown passkey", false)},
		{name: "browser Cookie", x: exchange{reqs: []string{get(announce1, "Cookie: session=1")}}, check: refused(200, "Cookie", false)},
		{name: "browser Accept-Language lower case", x: exchange{reqs: []string{get(announce1, "accept-language: en")}}, check: refused(200, "Accept-Language", false)},
		{name: "browser user agent", x: exchange{reqs: []string{strings.Replace(get(announce1), "qBittorrent/4.6.5", "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0", 1)}}, check: refused(200, "too long", false)},
		{name: "untrusted X-Forwarded-For", x: exchange{reqs: []string{get(announce1, "X-Forwarded-For: 203.0.113.9")}}, check: clientAddr("127.0.0.1")},
		{name: "trusted X-Forwarded-For", setup: setup{trusted: trusted},
			x:     exchange{reqs: []string{get(announce1, "X-Forwarded-For: 198.51.100.1, 203.0.113.7", "X-Forwarded-For: 127.0.0.9")}},
			check: clientAddr("203.0.113.7")},
		{name: "trusted X-Forwarded-For, many headers", setup: setup{trusted: trusted},
			x:     exchange{reqs: []string{get(announce1, strings.Repeat("X-Forwarded-For: 192.0.2.66\r\n", 12)+"X-Forwarded-For: 203.0.113.8")}},
			check: clientAddr("203.0.113.8")},
		{name: "10 KiB of headers", x: exchange{reqs: []string{get(announce1, "X-Pad: "+strings.Repeat("a", 10<<10)), get(scrape1)}, pipelined: true},
			check: func(t *testing.T, s *server, r result) {
				if failure(t, r.answers[0]) != "" || dict(t, r.answers[1])["files"] == nil || r.closed {
					t.Errorf("%+v", r)
				}
			}},
		{name: "trusted X-Real-IP IPv6", setup: setup{trusted: trusted},
			x: exchange{reqs: []string{get(announce1, "X-Real-IP:  2001:db8::5 ")}}, check: clientAddr("2001:db8::5")},
		{name: "IPv6 peers", setup: setup{network: "tcp6"}, x: exchange{reqs: []string{get(announce1), get(announce2)}},
			check: func(t *testing.T, s *server, r result) {
				p6, _ := dict(t, r.answers[1])["peers6"].(string)
				if got, _ := netip.AddrFromSlice(s.sink.last().Ip); got.String() != "::1" || len(p6) != 18 || p6[16] != 6881>>8 {
					t.Errorf("event address %s, peers6 %q in %q", got, p6, r.answers[1].body)
				}
			}},
		{name: "keep-alive", x: exchange{reqs: []string{get(announce1), get(scrape1), get("/x")}},
			check: func(t *testing.T, s *server, r result) {
				if len(r.answers) != 3 || r.closed || r.answers[0].connection != "" {
					t.Errorf("%+v", r)
				}
			}},
		{name: "pipelined", x: exchange{reqs: []string{get(announce1), get("/x"), get(scrape1), get(announce2)}, pipelined: true},
			check: func(t *testing.T, s *server, r result) {
				if r.closed || failure(t, r.answers[0]) != "" || !strings.Contains(failure(t, r.answers[1]), "not a tracker URL") ||
					dict(t, r.answers[2])["files"] == nil || failure(t, r.answers[3]) != "" {
					t.Errorf("%+v", r)
				}
			}},
		{name: "pipelined then close", x: exchange{reqs: []string{get(announce1), get(scrape1, "Connection: close"), get("/x")}, pipelined: true, answers: 2},
			check: func(t *testing.T, s *server, r result) {
				if !r.closed || r.answers[1].connection != "close" || dict(t, r.answers[1])["files"] == nil {
					t.Errorf("%+v", r)
				}
			}},
		{name: "Connection close", x: exchange{reqs: []string{get(announce1, "Connection: Close")}},
			check: func(t *testing.T, s *server, r result) {
				if !r.closed || r.answers[0].connection != "close" || failure(t, r.answers[0]) != "" {
					t.Errorf("%+v", r)
				}
			}},
		{name: "HTTP/1.0", x: exchange{reqs: []string{"GET " + announce1 + " HTTP/1.0\r\nUser-Agent: qBittorrent/4.6.5\r\n\r\n"}},
			check: func(t *testing.T, s *server, r result) {
				if !r.closed || r.answers[0].connection != "close" || failure(t, r.answers[0]) != "" || !isTrackerAnswer(r.answers[0], 200) {
					t.Errorf("%+v", r)
				}
			}},
		{name: "HTTP/1.0 keep-alive", x: exchange{reqs: []string{
			"GET " + announce1 + " HTTP/1.0\r\nUser-Agent: qBittorrent/4.6.5\r\nConnection: keep-alive\r\n\r\n",
			"GET " + scrape1 + " HTTP/1.0\r\nUser-Agent: qBittorrent/4.6.5\r\nConnection: keep-alive\r\n\r\n"}},
			check: func(t *testing.T, s *server, r result) {
				if r.closed || r.answers[1].connection != "keep-alive" || dict(t, r.answers[1])["files"] == nil {
					t.Errorf("%+v", r)
				}
			}},
		{name: "LF line ends", x: exchange{reqs: []string{"GET " + announce1 + " HTTP/1.1\nHost: x\nUser-Agent: qBittorrent/4.6.5\n\n"}}, check: accepted(1)},
		{name: "POST", x: exchange{reqs: []string{strings.Replace(get(announce1), "GET", "POST", 1)}},
			check: func(t *testing.T, s *server, r result) {
				refused(405, "only answers GET", false)(t, s, r)
				if r.answers[0].allow != "GET" {
					t.Errorf("Allow %q", r.answers[0].allow)
				}
			}},
		{name: "HEAD", x: exchange{reqs: []string{strings.Replace(get(announce1), "GET", "HEAD", 1), get(announce1)}},
			check: func(t *testing.T, s *server, r result) {
				a := r.answers[0]
				if a.status != 405 || a.body != "" || a.contentLength == "" || a.contentLength == "0" || r.answers[1].status != 200 || r.closed {
					t.Errorf("%+v", r)
				}
			}},
		{name: "body", x: exchange{reqs: []string{strings.Replace(get(announce1), "\r\n\r\n", "\r\nContent-Length: 5\r\n\r\nhello", 1)}},
			check: refused(413, "bodies", true)},
		{name: "chunked body", x: exchange{reqs: []string{strings.Replace(get(announce1), "\r\n\r\n", "\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 1)}},
			check: refused(413, "bodies", true)},
		{name: "empty body", x: exchange{reqs: []string{get(announce1, "Content-Length: 0")}}, check: accepted(1)},
		{name: "oversized header", x: exchange{reqs: []string{get(announce1, "X-Pad: "+strings.Repeat("a", 40<<10))}}, check: refusedByServer(431)},
		{name: "oversized request line", x: exchange{reqs: []string{get(announce1 + "&x=" + strings.Repeat("a", 40<<10))}}, check: refusedByServer(431)},
		{name: "garbage", x: exchange{reqs: []string{"GARBAGE\r\n\r\n"}}, check: refusedByServer(400)},
		{name: "no Host", x: exchange{reqs: []string{"GET " + announce1 + " HTTP/1.1\r\nUser-Agent: x\r\n\r\n"}}, check: refusedByServer(400)},
		{name: "two Hosts", x: exchange{reqs: []string{get(announce1, "Host: other.example")}}, check: refusedByServer(400)},
		{name: "header without colon", x: exchange{reqs: []string{get(announce1, "NoColon")}}, check: refusedByServer(400)},
		{name: "space before colon", x: exchange{reqs: []string{get(announce1, "User-Agent : x")}}, check: refusedByServer(400)},
		{name: "bad version", x: exchange{reqs: []string{"GET " + announce1 + " HTTP/x\r\nHost: x\r\n\r\n"}}, check: refusedByServer(400)},
		{name: "HTTP/2.0", x: exchange{reqs: []string{"GET " + announce1 + " HTTP/2.0\r\nHost: x\r\n\r\n"}}, check: refusedByServer(505)},
		{name: "control byte in target", x: exchange{reqs: []string{"GET /" + pk1 + "/announce?a=\x01 HTTP/1.1\r\nHost: x\r\n\r\n"}}, check: refusedByServer(400)},
		{name: "bad Content-Length", x: exchange{reqs: []string{get(announce1, "Content-Length: x")}}, check: refusedByServer(400)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.setup.network == "" {
				tc.setup.network = "tcp4"
			}
			var results []result
			for _, s := range startServers(t, tc.setup) {
				r := tc.x.run(t, s.addr)
				t.Run(s.kind, func(t *testing.T) { tc.check(t, s, r) })
				results = append(results, r)
			}
			same(t, results[0], results[1])
		})
	}
}

// same: both servers answered alike (the body of a refusal by the server
// may word its reason differently after the status).
func same(t *testing.T, std, lean result) {
	t.Helper()
	if std.closed != lean.closed || len(std.answers) != len(lean.answers) {
		t.Fatalf("net/http: %+v\nwire:     %+v", std, lean)
	}
	for i, a := range std.answers {
		b := lean.answers[i]
		if a.status >= 400 && a.status != 405 && a.status != 413 {
			status := fmt.Sprint(a.status) + " " + http.StatusText(a.status)
			if strings.HasPrefix(a.body, status) && strings.HasPrefix(b.body, status) {
				a.body, b.body = status, status
			}
		}
		if a != b {
			t.Errorf("answer %d:\nnet/http: %+v\nwire:     %+v", i, a, b)
		}
	}
}

// A request that never ends (slowloris), and a connection that never sends
// one, are closed by the connection limits on both servers, unanswered.
func TestConformanceSlowClientsClosed(t *testing.T) {
	lim := conntimeout.Limits{Request: 300 * time.Millisecond, Idle: time.Minute, Tick: 20 * time.Millisecond}
	for _, s := range startServers(t, setup{network: "tcp4", limits: lim}) {
		for _, partial := range []string{"GET /" + pk1 + "/announce?info_hash=", ""} {
			c, err := net.Dial("tcp", s.addr)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.WriteString(c, partial); err != nil {
				t.Fatal(err)
			}
			_ = c.SetReadDeadline(time.Now().Add(60 * time.Second)) // a guard, not an assertion
			b, err := io.ReadAll(c)
			var ne net.Error
			if len(b) != 0 || errors.As(err, &ne) && ne.Timeout() {
				t.Errorf("%s, %q: read %q, %v; want the connection closed unanswered", s.kind, partial, b, err)
			}
			c.Close()
		}
	}
}

// Shutdown closes idle keep-alive connections and waits for the request
// being answered, which is answered with Connection: close; Serve then
// returns ErrServerClosed.
func TestShutdown(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	block := func(next frontend.Handler) frontend.Handler {
		return frontend.HandlerFunc(func(w frontend.ResponseWriter, r *frontend.Request) {
			if r.URL.Path == "/block" {
				entered <- struct{}{}
				<-release
			}
			next.ServeTracker(w, r)
		})
	}
	for _, s := range startServers(t, setup{network: "tcp4", wrap: block}) {
		dial := func() (net.Conn, *bufio.Reader) {
			c, err := net.Dial("tcp", s.addr)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Close() })
			_ = c.SetDeadline(time.Now().Add(60 * time.Second)) // a guard
			return c, bufio.NewReader(c)
		}
		idle, idleR := dial()
		if got := (exchange{reqs: []string{get(announce1)}}).run(t, s.addr); got.closed {
			t.Fatalf("%s: %+v", s.kind, got)
		}
		if _, err := io.WriteString(idle, get(announce1)); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(idleR, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.ReadAll(resp.Body)
		busy, busyR := dial()
		if _, err := io.WriteString(busy, get("/block")); err != nil {
			t.Fatal(err)
		}
		<-entered
		done := make(chan error, 1)
		go func() { done <- s.shutdown() }()
		if b, err := idleR.ReadByte(); err == nil {
			t.Errorf("%s: the idle connection got %q, want it closed", s.kind, b)
		}
		close(release)
		resp, err = http.ReadResponse(busyR, nil)
		if err != nil {
			t.Fatalf("%s: the request in flight: %v", s.kind, err)
		}
		if resp.StatusCode != 200 || !resp.Close {
			t.Errorf("%s: the request in flight got %d, closing %v", s.kind, resp.StatusCode, resp.Close)
		}
		if err := <-done; err != nil {
			t.Error(err)
		}
		release = make(chan struct{})
	}
}
