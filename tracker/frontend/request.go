package frontend

import (
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"

	"github.com/ratioguard/ratioguard/tracker/core"
)

// Request is what the frontend reads of an HTTP request. A transport fills
// it for the length of one ServeTracker call: its strings may point into
// the transport's buffers and are not kept, except UserAgent, which the
// announce's event keeps and must therefore be a string of its own.
type Request struct {
	Method string
	// URL is the request target as url.ParseRequestURI reads it
	// (ParseTarget).
	URL url.URL
	// RemoteAddr is the connection's peer.
	RemoteAddr netip.AddrPort
	// UserAgent is the first User-Agent header ("" without one).
	UserAgent string
	// RealIP is the first X-Real-IP header; ForwardedFor the values of
	// every X-Forwarded-For header joined by commas. Believed only from
	// trusted proxies.
	RealIP, ForwardedFor string
	// Browser: the headers browsers send and BitTorrent clients do not
	// (BrowserHeaders).
	Browser core.Headers
	// Body: the request has a body (Content-Length above 0, or a
	// Transfer-Encoding). It is refused with 413 and the connection closed.
	Body bool
}

// ResponseWriter receives the frontend's answer: one WriteAnswer per
// request, a text/plain body with its status. A transport adds
// "Allow: GET" to a 405 and closes the connection after a status for which
// CloseAfter is true.
type ResponseWriter interface {
	WriteAnswer(status int, body []byte)
}

// Handler answers tracker requests: the Frontend, or a wrapper of it.
type Handler interface {
	ServeTracker(w ResponseWriter, r *Request)
}

// HandlerFunc is a function used as a Handler.
type HandlerFunc func(w ResponseWriter, r *Request)

// ServeTracker calls fn.
func (fn HandlerFunc) ServeTracker(w ResponseWriter, r *Request) { fn(w, r) }

// CloseAfter says whether the connection is closed after an answer with
// this status (a request with a body: the body is never read).
func CloseAfter(status int) bool { return status == statusHasBody }

// AllowHeader is the Allow header's value sent with a 405.
const AllowHeader = "GET"

var (
	textPlain   = []string{"text/plain"}
	allowGet    = []string{AllowHeader}
	closeHeader = []string{"close"}
)

// HTTPHandler carries h over net/http: the request view is filled from the
// *http.Request, the answer written with the headers the tracker's own
// server (tracker/wire) writes.
func HTTPHandler(h Handler) http.Handler {
	pool := sync.Pool{New: func() any { return new(stdExchange) }}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x := pool.Get().(*stdExchange)
		x.w = w
		x.req = Request{
			Method:    r.Method,
			URL:       *r.URL,
			UserAgent: first(r.Header, "User-Agent"),
			RealIP:    first(r.Header, "X-Real-Ip"),
			Browser:   BrowserHeaders(r.Header),
			Body:      r.ContentLength > 0 || len(r.TransferEncoding) > 0,
		}
		x.req.RemoteAddr, _ = netip.ParseAddrPort(r.RemoteAddr)
		if v := r.Header["X-Forwarded-For"]; len(v) == 1 {
			x.req.ForwardedFor = v[0]
		} else if len(v) > 1 {
			x.req.ForwardedFor = strings.Join(v, ",")
		}
		h.ServeTracker(x, &x.req)
		*x = stdExchange{}
		pool.Put(x)
	})
}

// first is the first value of the header of canonical name key (Header.Get
// would canonicalize the name, allocating for "X-Real-IP").
func first(h http.Header, key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// stdExchange is a request view and the net/http writer it answers to.
type stdExchange struct {
	req Request
	w   http.ResponseWriter
}

func (x *stdExchange) WriteAnswer(status int, body []byte) {
	h := x.w.Header()
	h["Content-Type"] = textPlain
	if status == http.StatusMethodNotAllowed {
		h["Allow"] = allowGet
	}
	if CloseAfter(status) {
		h["Connection"] = closeHeader
	}
	if status != http.StatusOK {
		x.w.WriteHeader(status)
	}
	_, _ = x.w.Write(body)
}
