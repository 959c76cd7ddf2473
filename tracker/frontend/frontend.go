// Package frontend owns the tracker's HTTP face: GET /{passkey}/announce and
// /{passkey}/scrape (BEP 3, 7, 23, 48), and the forms the sites' .torrent
// files carry besides Ocelot's (UNIT3D's /announce/{passkey}, NexusPHP's
// /announce.php?passkey= and /scrape.php, or with ?authkey= instead of the
// passkey, which the core's policy resolves), the query parser that keeps raw
// info_hash/peer_id bytes and the order of parameter names, bencoded
// answers, the client address (X-Forwarded-For / X-Real-IP only from trusted
// proxies) and the announce metrics (served with the tracker's other
// operations endpoints on its admin address, internal/ops: never on the
// public one). Every refusal, malformed request and panic is answered with
// HTTP 200 and a bencoded failure reason; only a method other than GET (405)
// and a request with a body (413) get another status.
//
// The frontend reads a request through a small view (Request) and answers
// through ResponseWriter, so that any HTTP server can carry it: the
// tracker's own (tracker/wire) and net/http (HTTPHandler).
package frontend

import (
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ratioguard/ratioguard/tracker/bencode"
	"github.com/ratioguard/ratioguard/tracker/core"
)

// Config tunes the frontend.
type Config struct {
	// TrustedProxies: connections from these ranges may name the client's
	// address in X-Real-IP or X-Forwarded-For.
	TrustedProxies []netip.Prefix
}

// Frontend serves the tracker's HTTP endpoints. It is a Handler; Handler
// returns it for net/http.
type Frontend struct {
	core    *core.Core
	cfg     Config
	log     *slog.Logger
	metrics *metrics
	pool    sync.Pool
	handler http.Handler
}

// state is the per-request scratch space, pooled.
type state struct {
	req    core.Request
	ans    core.Answer
	parser Parser
	out    []byte
	hashes [][20]byte
}

// Failure reasons of the requests that are not announces or scrapes.
const (
	msgNotFound   = "not a tracker URL: use the announce URL from your .torrent (http://host/PASSKEY/announce)"
	msgNotGet     = "the tracker only answers GET requests"
	msgBody       = "the tracker does not accept request bodies"
	msgInternal   = "internal tracker error: please retry later"
	statusNotGet  = http.StatusMethodNotAllowed
	statusHasBody = http.StatusRequestEntityTooLarge
)

// New builds the frontend. reg receives the announce metrics.
func New(c *core.Core, cfg Config, reg prometheus.Registerer, log *slog.Logger) (*Frontend, error) {
	m, err := newMetrics(reg, c)
	if err != nil {
		return nil, err
	}
	f := &Frontend{core: c, cfg: cfg, log: log, metrics: m}
	f.pool.New = func() any {
		return &state{out: make([]byte, 0, 2048), ans: core.Answer{Peers: make([]core.Peer, 0, 64)}}
	}
	f.handler = HTTPHandler(f)
	return f, nil
}

// Handler returns the frontend as a net/http handler (HTTPHandler).
func (f *Frontend) Handler() http.Handler { return f.handler }

// ServeTracker answers a request: an announce or a scrape in any of the
// sites' URL forms, else a failure reason — HTTP 200 for every URL, 405 for
// a method other than GET, 413 for a request with a body (the transport
// closes the connection after it). A panic is answered with a failure
// reason too.
func (f *Frontend) ServeTracker(w ResponseWriter, r *Request) {
	defer f.recoverPanic(w, r)
	switch {
	case r.Body:
		writeFailure(w, statusHasBody, msgBody)
	case r.Method != http.MethodGet:
		writeFailure(w, statusNotGet, msgNotGet)
	default:
		if pk, ok := AnnounceRoute(&r.URL); ok {
			f.announce(w, r, f.authkey(r, pk))
		} else if pk, ok := scrapeRoute(&r.URL); ok {
			f.scrape(w, r, f.authkey(r, pk))
		} else {
			writeFailure(w, http.StatusOK, msgNotFound)
		}
	}
}

// AnnounceRoute returns the passkey of an announce URL, in the forms the
// sites' .torrent files carry: Ocelot's (Gazelle) "/PASSKEY/announce",
// UNIT3D's "/announce/PASSKEY" and NexusPHP's "/announce.php?passkey=PASSKEY"
// — in the decoded path, else in the raw path when the URL has one (a
// passkey with an escaped slash).
func AnnounceRoute(u *url.URL) (passkey string, ok bool) {
	return route(u, "/announce", "/announce.php", true)
}

// scrapeRoute returns the passkey of a scrape URL: "/PASSKEY/scrape" or
// NexusPHP's "/scrape.php?passkey=PASSKEY", read as AnnounceRoute reads
// announce URLs.
func scrapeRoute(u *url.URL) (passkey string, ok bool) {
	return route(u, "/scrape", "/scrape.php", false)
}

// route matches "/PASSKEY"+suffix (and "/announce/PASSKEY" when unit3d)
// in the decoded path, else in the raw one, and php with the passkey in
// the query.
func route(u *url.URL, suffix, php string, unit3d bool) (string, bool) {
	if pk, ok := pathPasskey(u.Path, suffix, unit3d); ok {
		return pk, true
	}
	if u.Path == php {
		return queryPasskey(u.RawQuery)
	}
	if u.RawPath != "" {
		return pathPasskey(u.RawPath, suffix, unit3d)
	}
	return "", false
}

// Parser turns an announce as it reaches the tracker — the request's URL,
// its User-Agent header and the client's address (after the trusted-proxy
// rules) — into the core's request, exactly as the live handler does: the
// routes it accepts, the query parser that keeps raw info_hash/peer_id bytes
// and the order of parameter names, and the Malformed reason the core
// refuses with. The live handler and the announce-log importer both use it.
// A Parser is reused from call to call: the request's byte slices and
// parameter order point into it until the next call. The zero value is ready.
type Parser struct{ ps parseState }

// Parse fills r from an announce; false (r untouched) when u is not an
// announce route (AnnounceRoute).
func (p *Parser) Parse(u *url.URL, userAgent string, addr netip.Addr, r *core.Request) bool {
	pk, ok := AnnounceRoute(u)
	if !ok {
		return false
	}
	p.parse(pk, u.RawQuery, userAgent, addr, r)
	return true
}

// parse fills r from an announce under passkey pk with query q.
func (p *Parser) parse(pk, q, userAgent string, addr netip.Addr, r *core.Request) {
	*r = core.Request{Passkey: pk, Addr: addr, UserAgent: userAgent}
	r.Malformed = parseAnnounce(q, r, &p.ps)
}

// ParseTarget parses a request line's target (path with query, or an
// absolute URL) into u as net/http's server does (url.ParseRequestURI); the
// error is the one for which net/http answers 400 Bad Request before any
// handler runs. A rooted path of plain characters ([A-Za-z0-9._~/-], the
// announce URLs' passkeys) is split without allocating.
func ParseTarget(target string, u *url.URL) error {
	if path, query, ok := plainTarget(target); ok {
		*u = url.URL{Path: path, RawQuery: query}
		return nil
	}
	v, err := url.ParseRequestURI(target)
	if err != nil {
		return err
	}
	*u = *v
	return nil
}

// plainTarget splits "/path?query" when url.ParseRequestURI would give
// exactly Path=path, RawQuery=query and nothing else: no control byte
// anywhere, a path of unreserved characters and slashes only (nothing to
// unescape, no RawPath), the query after the first '?' (a '?' as the last
// byte sets ForceQuery: left to the slow path).
func plainTarget(t string) (path, query string, ok bool) {
	if len(t) == 0 || t[0] != '/' {
		return "", "", false
	}
	q := len(t)
	for i := 1; i < len(t); i++ {
		c := t[i]
		if c == '?' {
			q = i
			break
		}
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '/' || c == '-' || c == '_' || c == '.' || c == '~') {
			return "", "", false
		}
	}
	if q == len(t) {
		return t, "", true
	}
	if q == len(t)-1 {
		return "", "", false
	}
	for i := q + 1; i < len(t); i++ {
		if c := t[i]; c < 0x20 || c == 0x7f {
			return "", "", false
		}
	}
	return t[:q], t[q+1:], true
}

// announcePasskey returns PASSKEY of "/PASSKEY/announce" or
// "/announce/PASSKEY" (a non-empty segment without a slash).
func announcePasskey(path string) (string, bool) { return pathPasskey(path, "/announce", true) }

// pathPasskey returns PASSKEY of "/PASSKEY"+suffix, or of
// "/announce/PASSKEY" when unit3d (a non-empty segment without a slash).
func pathPasskey(path, suffix string, unit3d bool) (string, bool) {
	if rest, ok := strings.CutPrefix(path, "/announce/"); ok && unit3d {
		if rest == "" || strings.IndexByte(rest, '/') >= 0 {
			return "", false
		}
		return rest, true
	}
	rest, ok := strings.CutSuffix(path, suffix)
	if !ok || len(rest) < 2 || rest[0] != '/' || strings.IndexByte(rest[1:], '/') >= 0 {
		return "", false
	}
	return rest[1:], true
}

// queryPasskey returns the value of the first passkey parameter of a raw
// query (NexusPHP's announce.php and scrape.php), percent-decoded; an
// announce without one is still an announce, refused as an unknown passkey
// unless it has an authkey (Frontend.authkey).
func queryPasskey(q string) (string, bool) { return queryValue(q, "passkey"), true }

// queryValue returns the value of the first parameter name of a raw query,
// percent-decoded when it decodes ("" when absent).
func queryValue(q, name string) string {
	for len(q) > 0 {
		var pair string
		pair, q, _ = strings.Cut(q, "&")
		n, val, _ := strings.Cut(pair, "=")
		if n != name {
			continue
		}
		if v, err := url.QueryUnescape(val); err == nil {
			return v
		}
		return val
	}
	return ""
}

// authkey is the passkey to answer under: pk, or when the URL has none
// (NexusPHP's announce.php and scrape.php), the passkey its authkey
// parameter stands for (NexusPHP wrote "?authkey=TORRENT|USER|HASH" into
// the .torrent files it served from June 2021 to May 2023). An authkey
// the policy does not accept leaves "": refused as an unknown passkey.
func (f *Frontend) authkey(r *Request, pk string) string {
	if pk != "" {
		return pk
	}
	if ak := queryValue(r.URL.RawQuery, "authkey"); ak != "" {
		return f.core.PasskeyByAuthkey(ak)
	}
	return ""
}

func writeFailure(w ResponseWriter, status int, msg string) {
	w.WriteAnswer(status, bencode.AppendFailure(nil, msg))
}

// recoverPanic turns a panic into a failure reason with HTTP 200.
func (f *Frontend) recoverPanic(w ResponseWriter, r *Request) {
	if v := recover(); v != nil {
		f.metrics.panics.Inc()
		f.log.Error("panic while answering", "path", RedactPath(r.URL.Path), "panic", v)
		writeFailure(w, http.StatusOK, msgInternal)
	}
}

// announce answers an announce under passkey pk.
func (f *Frontend) announce(w ResponseWriter, r *Request, pk string) {
	start := time.Now()
	st := f.pool.Get().(*state)
	st.parser.parse(pk, r.URL.RawQuery, r.UserAgent, f.clientAddr(r), &st.req)
	st.req.Headers = r.Browser
	f.core.Announce(&st.req, &st.ans)
	ps := &st.parser.ps
	st.out = appendAnswer(st.out[:0], &st.ans, ps.compact, ps.noPeerID)
	w.WriteAnswer(http.StatusOK, st.out)
	f.metrics.observe(&st.ans, time.Since(start))
	st.req = core.Request{}
	f.pool.Put(st)
}

// scrape answers a scrape under passkey pk.
func (f *Frontend) scrape(w ResponseWriter, r *Request, pk string) {
	st := f.pool.Get().(*state)
	defer f.pool.Put(st)
	var bad string
	st.hashes, bad = parseScrape(r.URL.RawQuery, st.hashes[:0])
	if bad == "" {
		bad = f.core.CheckPasskey(pk, f.clientAddr(r))
	}
	f.metrics.scrapes.Inc()
	if bad != "" {
		writeFailure(w, http.StatusOK, bad)
		return
	}
	b := append(st.out[:0], "d5:filesd"...)
	for i, ih := range st.hashes {
		if dupBefore(st.hashes[:i], ih) {
			continue
		}
		s, ok := f.core.Scrape(ih)
		if !ok {
			continue
		}
		b = bencode.AppendBytes(b, ih[:])
		b = append(b, "d8:complete"...)
		b = bencode.AppendUint(b, uint64(s.Complete))
		b = append(b, "10:downloaded"...)
		b = bencode.AppendUint(b, uint64(s.Downloaded))
		b = append(b, "10:incomplete"...)
		b = bencode.AppendUint(b, uint64(s.Incomplete))
		b = append(b, 'e')
	}
	b = append(b, "ee"...)
	st.out = b
	w.WriteAnswer(http.StatusOK, b)
}

func dupBefore(hs [][20]byte, h [20]byte) bool {
	for _, x := range hs {
		if x == h {
			return true
		}
	}
	return false
}

// appendAnswer bencodes an answer (keys in sorted order).
func appendAnswer(b []byte, a *core.Answer, compact, noPeerID bool) []byte {
	if a.Failure != "" {
		return bencode.AppendFailure(b, a.Failure)
	}
	b = append(b, "d8:complete"...)
	b = bencode.AppendUint(b, uint64(a.Complete))
	b = append(b, "10:incomplete"...)
	b = bencode.AppendUint(b, uint64(a.Incomplete))
	b = append(b, "8:interval"...)
	b = bencode.AppendInt(b, int64(a.Interval))
	b = append(b, "12:min interval"...)
	b = bencode.AppendInt(b, int64(a.MinInterval))
	if compact {
		n4, n6 := 0, 0
		for i := range a.Peers {
			if a.Peers[i].Is4 {
				n4++
			} else {
				n6++
			}
		}
		b = append(b, "5:peers"...)
		b = appendLen(b, n4*6)
		for i := range a.Peers {
			if p := &a.Peers[i]; p.Is4 {
				b = append(b, p.Addr[:4]...)
				b = append(b, byte(p.Port>>8), byte(p.Port))
			}
		}
		if n6 > 0 {
			b = append(b, "6:peers6"...)
			b = appendLen(b, n6*18)
			for i := range a.Peers {
				if p := &a.Peers[i]; !p.Is4 {
					b = append(b, p.Addr[:]...)
					b = append(b, byte(p.Port>>8), byte(p.Port))
				}
			}
		}
	} else {
		b = append(b, "5:peersl"...)
		for i := range a.Peers {
			p := &a.Peers[i]
			b = append(b, "d2:ip"...)
			b = bencode.AppendString(b, addrString(p))
			if !noPeerID {
				b = append(b, "7:peer id"...)
				b = bencode.AppendBytes(b, p.ID[:])
			}
			b = append(b, "4:port"...)
			b = bencode.AppendInt(b, int64(p.Port))
			b = append(b, 'e')
		}
		b = append(b, 'e')
	}
	if a.Warning != "" {
		b = append(b, "15:warning message"...)
		b = bencode.AppendString(b, a.Warning)
	}
	return append(b, 'e')
}

// appendLen writes a byte string's length prefix "<n>:".
func appendLen(b []byte, n int) []byte {
	return append(strconv.AppendInt(b, int64(n), 10), ':')
}

func addrString(p *core.Peer) string {
	if p.Is4 {
		return netip.AddrFrom4([4]byte(p.Addr[:4])).String()
	}
	return netip.AddrFrom16(p.Addr).String()
}

// BrowserHeaders says which headers that browsers and HTTP libraries send,
// and BitTorrent clients never do, h carries (the core refuses them; see
// core.Headers). Canonical keys only, as net/http's server stores them.
func BrowserHeaders(h http.Header) core.Headers {
	var out core.Headers
	for _, c := range browserHeaders {
		if _, ok := h[c.name]; ok {
			out |= c.bit
		}
	}
	return out
}

var browserHeaders = []struct {
	name string
	bit  core.Headers
}{
	{"Accept-Language", core.HeaderAcceptLanguage},
	{"Referer", core.HeaderReferer},
	{"Accept-Charset", core.HeaderAcceptCharset},
	{"Cookie", core.HeaderCookie},
	{"Want-Digest", core.HeaderWantDigest},
}

// clientAddr is the connection's address, or the address a trusted proxy names.
func (f *Frontend) clientAddr(r *Request) netip.Addr {
	addr := r.RemoteAddr.Addr().Unmap()
	if !addr.IsValid() || !f.trusted(addr) {
		return addr
	}
	if v := r.RealIP; v != "" {
		if a, err := netip.ParseAddr(strings.TrimSpace(v)); err == nil {
			return a.Unmap()
		}
	}
	if all := r.ForwardedFor; all != "" {
		// Rightmost address not of a trusted proxy: the one our proxy saw.
		for all != "" {
			i := strings.LastIndexByte(all, ',')
			part := strings.TrimSpace(all[i+1:])
			all = all[:max(i, 0)]
			a, err := netip.ParseAddr(part)
			if err != nil {
				break
			}
			a = a.Unmap()
			if !f.trusted(a) {
				return a
			}
			if i < 0 {
				break
			}
		}
	}
	return addr
}

func (f *Frontend) trusted(a netip.Addr) bool {
	for _, p := range f.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// RedactPasskey keeps the first 4 characters of a passkey, for logs.
func RedactPasskey(pk string) string {
	if len(pk) <= 4 {
		return "…"
	}
	return pk[:4] + "…"
}

// RedactPath redacts the passkey in /{passkey}/... and /announce/{passkey} paths.
func RedactPath(p string) string {
	if pk, ok := strings.CutPrefix(p, "/announce/"); ok {
		return "/announce/" + RedactPasskey(pk)
	}
	if len(p) < 2 {
		return p
	}
	rest := p[1:]
	i := strings.IndexByte(rest, '/')
	if i < 0 {
		return "/" + RedactPasskey(rest)
	}
	return "/" + RedactPasskey(rest[:i]) + rest[i:]
}
