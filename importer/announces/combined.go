package announces

import (
	"strings"
	"time"

	"github.com/ratioguard/ratioguard/tracker/frontend"
)

// parseCombined reads an access log line in the combined format
//
//	IP - USER [02/Jan/2006:15:04:05 -0700] "GET /path?query HTTP/1.1" STATUS BYTES "referer" "UA"
//
// (the common format, without referer and user agent, also: the user agent
// is then empty; fields after the user agent are ignored). Strings may hold
// nginx's \xHH escapes and Apache's \" and \\; a user agent of "-" is empty.
func parseCombined(s string, f *fields) (kind, msg string) {
	*f = fields{}
	sp := strings.IndexByte(s, ' ')
	if sp <= 0 {
		return BadRequest, "no address field"
	}
	f.ip = s[:sp]
	lb := strings.IndexByte(s, '[')
	if lb < 0 || lb+28 > len(s) || s[lb+27] != ']' {
		return BadTime, "no [dd/Mon/yyyy:hh:mm:ss +zzzz] time"
	}
	t, ok := clfTime(s[lb+1 : lb+27])
	if !ok {
		return BadTime, "time " + s[lb+1:lb+27] + " is not dd/Mon/yyyy:hh:mm:ss +zzzz"
	}
	f.t = t
	rest := s[lb+28:]
	if !strings.HasPrefix(rest, " \"") {
		return BadRequest, "no quoted request after the time"
	}
	req, rest, ok := quoted(rest[1:])
	if !ok {
		return BadRequest, "unterminated request"
	}
	method, tail, ok := strings.Cut(req, " ")
	if !ok || !isToken(method) {
		// A well-formed log line of something that was not an HTTP request:
		// "-" (connection closed before a request), TLS or other bytes on
		// the plain-HTTP port. Skipped, not bad.
		f.method = ""
		return "", ""
	}
	f.method = method
	target := tail
	if i := strings.LastIndexByte(tail, ' '); i >= 0 && strings.HasPrefix(tail[i+1:], "HTTP/") {
		target = tail[:i]
	}
	if target == "" {
		return BadRequest, "request " + req + " has no target"
	}
	f.target = unescapeLog(target)
	// STATUS BYTES "referer" "UA": the user agent is the second quoted string.
	if i := strings.IndexByte(rest, '"'); i >= 0 {
		if _, rest2, ok := quoted(rest[i:]); ok {
			if j := strings.IndexByte(rest2, '"'); j >= 0 {
				ua, _, ok := quoted(rest2[j:])
				if !ok {
					return BadRequest, "unterminated user agent"
				}
				if ua != "-" {
					f.ua = unescapeLog(ua)
				}
			}
		} else {
			return BadRequest, "unterminated referer"
		}
	}
	return "", ""
}

// isToken: an HTTP method (RFC 9110 token characters; letters in practice).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// quoted returns the content of the string starting at s[0] == '"' (raw,
// escapes kept) and what follows its closing quote. A quote preceded by a
// backslash (Apache's \") does not close it.
func quoted(s string) (content, rest string, ok bool) {
	if len(s) == 0 || s[0] != '"' {
		return "", s, false
	}
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return s[1:i], s[i+1:], true
		}
	}
	return "", s, false
}

// unescapeLog undoes the access logs' string escapes: \xHH (nginx), \" and
// \\ (Apache, nginx); other backslashes are kept.
func unescapeLog(s string) string {
	if strings.IndexByte(s, '\\') < 0 {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' && i+1 < len(s) {
			switch n := s[i+1]; {
			case n == '"' || n == '\\':
				b = append(b, n)
				i++
				continue
			case n == 'x' && i+3 < len(s):
				hi, ok1 := frontend.Unhex(s[i+2])
				lo, ok2 := frontend.Unhex(s[i+3])
				if ok1 && ok2 {
					b = append(b, hi<<4|lo)
					i += 3
					continue
				}
			}
		}
		b = append(b, c)
	}
	return string(b)
}

var months = map[string]time.Month{
	"Jan": time.January, "Feb": time.February, "Mar": time.March, "Apr": time.April,
	"May": time.May, "Jun": time.June, "Jul": time.July, "Aug": time.August,
	"Sep": time.September, "Oct": time.October, "Nov": time.November, "Dec": time.December,
}

// clfTime parses "02/Jan/2006:15:04:05 -0700" into Unix nanoseconds.
func clfTime(s string) (int64, bool) {
	if len(s) != 26 || s[2] != '/' || s[6] != '/' || s[11] != ':' || s[14] != ':' || s[17] != ':' || s[20] != ' ' {
		return 0, false
	}
	num := func(a, b int) (int, bool) {
		n := 0
		for i := a; i < b; i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	day, ok1 := num(0, 2)
	mon, ok2 := months[s[3:6]]
	year, ok3 := num(7, 11)
	hh, ok4 := num(12, 14)
	mm, ok5 := num(15, 17)
	ss, ok6 := num(18, 20)
	zh, ok7 := num(22, 24)
	zm, ok8 := num(24, 26)
	sign := s[21]
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7 && ok8) || (sign != '+' && sign != '-') ||
		day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60 || zm > 59 || year < 1990 {
		return 0, false
	}
	t := time.Date(year, mon, day, hh, mm, ss, 0, time.UTC)
	if t.Day() != day {
		return 0, false // 31/Feb
	}
	off := time.Duration(zh)*time.Hour + time.Duration(zm)*time.Minute
	if sign == '-' {
		off = -off
	}
	return t.Add(-off).UnixNano(), true
}
