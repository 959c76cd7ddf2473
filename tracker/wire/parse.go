package wire

import (
	"bytes"
	"net/http"
	"unsafe"

	"github.com/ratioguard/ratioguard/tracker/core"
	"github.com/ratioguard/ratioguard/tracker/frontend"
)

// MaxHeaderBytes bounds a request's head (request line, headers and the
// blank line that ends them); a longer one is answered 431.
const MaxHeaderBytes = 16 << 10

// maxForwardedFor bounds the X-Forwarded-For headers of one request that
// are read (proxies send one): the last ones, which the trusted proxies
// wrote, are kept.
const maxForwardedFor = 8

// head is what the server itself reads of a request, beside the view it
// fills for the frontend. Its slices point into the connection's buffer.
type head struct {
	proto11   bool // HTTP/1.1 (or a later 1.x); else HTTP/1.0
	close     bool // Connection: close, or HTTP/1.0 without keep-alive
	keepAlive bool // Connection: keep-alive (the HTTP/1.0 form)
	head      bool // the HEAD method: the answer has no body
	hosts     int
	userAgent []byte
	realIP    []byte
	xff       [maxForwardedFor][]byte
	nxff      int
	joined    []byte // the X-Forwarded-For values joined, when there are several
}

// badRequest is a request the server answers itself, before the frontend:
// status and the reason given after the status text (net/http's form).
type badRequest struct {
	status int
	reason string
}

// findHeadEnd returns the length of the head at the start of b (through the
// blank line that ends it; a bare LF ends lines too, as net/http reads
// them), or -1 when b holds no complete head. from: bytes of b already
// searched without finding it.
func findHeadEnd(b []byte, from int) int {
	i := max(from-2, 0)
	for {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return -1
		}
		i += j + 1
		if i < len(b) && b[i] == '\n' {
			return i + 1
		}
		if i+1 < len(b) && b[i] == '\r' && b[i+1] == '\n' {
			return i + 2
		}
	}
}

// str is b as a string without copying: valid while b's bytes are not
// overwritten (for the length of one request).
func str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// parseHead reads a complete head (findHeadEnd) into r and h. On a request
// the server must refuse itself it returns the answer's status and reason.
// r's strings point into b (or h), except Method's usual values;
// r.UserAgent is left to the caller (h.userAgent), which must own it.
func parseHead(b []byte, r *frontend.Request, h *head) *badRequest {
	*h = head{joined: h.joined[:0]}
	*r = frontend.Request{RemoteAddr: r.RemoteAddr}
	line, rest := nextLine(b)
	method, line, ok1 := cut(line, ' ')
	target, proto, ok2 := cut(line, ' ')
	if !ok1 || !ok2 {
		return &badRequest{http.StatusBadRequest, "malformed HTTP request"}
	}
	if len(method) == 0 || !isToken(method) {
		return &badRequest{http.StatusBadRequest, "invalid method"}
	}
	switch string(method) {
	case http.MethodGet:
		r.Method = http.MethodGet
	case http.MethodHead:
		r.Method = http.MethodHead
		h.head = true
	default:
		r.Method = str(method)
	}
	major, minor, ok := parseVersion(proto)
	if !ok {
		return &badRequest{http.StatusBadRequest, "malformed HTTP version"}
	}
	if major != 1 {
		return &badRequest{http.StatusHTTPVersionNotSupported, "unsupported protocol version"}
	}
	h.proto11 = minor >= 1
	if err := frontend.ParseTarget(str(target), &r.URL); err != nil {
		return &badRequest{http.StatusBadRequest, "malformed request URI"}
	}
	var contentLength []byte
	for {
		line, rest = nextLine(rest)
		if len(line) == 0 {
			break
		}
		name, value, ok := cut(line, ':')
		if !ok || len(name) == 0 || !isToken(name) {
			return &badRequest{http.StatusBadRequest, "malformed MIME header line"}
		}
		value = trimSpace(value)
		if !validValue(value) {
			return &badRequest{http.StatusBadRequest, "invalid header value"}
		}
		if bad := h.header(r, name, value, &contentLength); bad != nil {
			return bad
		}
	}
	switch {
	case h.hosts > 1:
		return &badRequest{http.StatusBadRequest, "too many Host headers"}
	case h.hosts == 0 && h.proto11:
		return &badRequest{http.StatusBadRequest, "missing required Host header"}
	}
	if !h.proto11 && !h.keepAlive {
		h.close = true
	}
	if r.Body {
		h.close = true
	}
	r.RealIP = str(h.realIP)
	switch h.nxff {
	case 0:
	case 1:
		r.ForwardedFor = str(h.xff[0])
	default:
		for i, v := range h.xff[:h.nxff] {
			if i > 0 {
				h.joined = append(h.joined, ',')
			}
			h.joined = append(h.joined, v...)
		}
		r.ForwardedFor = str(h.joined)
	}
	return nil
}

// header reads one header line. The names are compared by length first:
// most headers are none of these.
func (h *head) header(r *frontend.Request, name, value []byte, contentLength *[]byte) *badRequest {
	switch len(name) {
	case 4:
		if eq(name, "Host") {
			h.hosts++
			if !validHost(value) {
				return &badRequest{http.StatusBadRequest, "malformed Host header"}
			}
		}
	case 6:
		if eq(name, "Cookie") {
			r.Browser |= core.HeaderCookie
		}
	case 7:
		if eq(name, "Referer") {
			r.Browser |= core.HeaderReferer
		}
	case 9:
		if eq(name, "X-Real-IP") && h.realIP == nil {
			h.realIP = value
		}
	case 10:
		if eq(name, "User-Agent") {
			if h.userAgent == nil {
				h.userAgent = value
			}
		} else if eq(name, "Connection") {
			h.connection(value)
		}
	case 11:
		if eq(name, "Want-Digest") {
			r.Browser |= core.HeaderWantDigest
		}
	case 14:
		if eq(name, "Content-Length") {
			if *contentLength != nil && !bytes.Equal(*contentLength, value) {
				return &badRequest{http.StatusBadRequest, "conflicting Content-Length headers"}
			}
			n, ok := parseUint(value)
			if !ok {
				return &badRequest{http.StatusBadRequest, "bad Content-Length"}
			}
			*contentLength = value
			if n > 0 {
				r.Body = true
			}
		} else if eq(name, "Accept-Charset") {
			r.Browser |= core.HeaderAcceptCharset
		}
	case 15:
		if eq(name, "X-Forwarded-For") {
			// The last ones are kept: the proxies' own come last.
			if h.nxff == len(h.xff) {
				copy(h.xff[:], h.xff[1:])
				h.nxff--
			}
			h.xff[h.nxff] = value
			h.nxff++
		} else if eq(name, "Accept-Language") {
			r.Browser |= core.HeaderAcceptLanguage
		}
	case 17:
		if eq(name, "Transfer-Encoding") {
			r.Body = true
		}
	}
	return nil
}

// connection reads a Connection header's comma-separated options.
func (h *head) connection(v []byte) {
	for len(v) > 0 {
		var opt []byte
		opt, v, _ = cut(v, ',')
		opt = trimSpace(opt)
		if len(opt) == 5 && eq(opt, "close") {
			h.close = true
		} else if len(opt) == 10 && eq(opt, "keep-alive") {
			h.keepAlive = true
		}
	}
}

// nextLine splits b after its first line, without the line's CRLF (or LF).
func nextLine(b []byte) (line, rest []byte) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return b, nil
	}
	line, rest = b[:i], b[i+1:]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, rest
}

// cut splits b around the first c.
func cut(b []byte, c byte) (before, after []byte, found bool) {
	if i := bytes.IndexByte(b, c); i >= 0 {
		return b[:i], b[i+1:], true
	}
	return b, nil, false
}

// eq: b equals the ASCII string s, ignoring case (len(b) == len(s)).
func eq(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		c, d := b[i], s[i]
		if c == d {
			continue
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if 'A' <= d && d <= 'Z' {
			d += 'a' - 'A'
		}
		if c != d {
			return false
		}
	}
	return true
}

// parseVersion reads "HTTP/x.y" (single digits, as net/http does).
func parseVersion(b []byte) (major, minor int, ok bool) {
	if len(b) != len("HTTP/x.y") || string(b[:5]) != "HTTP/" || b[6] != '.' ||
		b[5] < '0' || b[5] > '9' || b[7] < '0' || b[7] > '9' {
		return 0, 0, false
	}
	return int(b[5] - '0'), int(b[7] - '0'), true
}

// parseUint reads a decimal Content-Length (at most 18 digits).
func parseUint(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, true
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// isToken: b is made of RFC 9110 token characters.
func isToken(b []byte) bool {
	for _, c := range b {
		if !tokenChar[c] {
			return false
		}
	}
	return true
}

// validValue: no control character but HTAB (obs-text allowed).
func validValue(b []byte) bool {
	for _, c := range b {
		if c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// validHost: the characters net/http accepts in a Host header.
func validHost(b []byte) bool {
	for _, c := range b {
		if !hostChar[c] {
			return false
		}
	}
	return true
}

var tokenChar, hostChar = func() (tok, host [256]bool) {
	for c := '0'; c <= '9'; c++ {
		tok[c], host[c] = true, true
	}
	for c := 'a'; c <= 'z'; c++ {
		tok[c], host[c], tok[c-'a'+'A'], host[c-'a'+'A'] = true, true, true, true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		tok[c] = true
	}
	for _, c := range "!$%&'()*+,-.:;=[]_~" {
		host[c] = true
	}
	for c := 0x80; c < 0x100; c++ {
		host[c] = true // net/http lets UTF-8 through for IDNs
	}
	return tok, host
}()
