package announces

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/ratioguard/ratioguard/tracker/frontend"
)

// jsonLine is the slow path's shape of a JSON line.
type jsonLine struct {
	TS   *json.Number `json:"ts"`
	IP   *string      `json:"ip"`
	Path *string      `json:"path"`
	UA   *string      `json:"ua"`
}

// parseJSONL reads {"ts":MS,"ip":"…","path":"…","ua":"…"} (any key order,
// other keys ignored). A flat object of strings and integers is scanned
// here (allocating only for strings with escapes); anything else goes
// through encoding/json.
// The request is a GET (popgen logs announces only).
func parseJSONL(s string, f *fields) (kind, msg string) {
	f.method = "GET"
	if fastJSONL(s, f) {
		return checkJSONL(f)
	}
	var j jsonLine
	if err := json.Unmarshal([]byte(s), &j); err != nil {
		return BadJSON, err.Error()
	}
	*f = fields{method: "GET"}
	if j.TS == nil || j.IP == nil || j.Path == nil {
		return BadMissing, "ts, ip and path are required"
	}
	ms, err := j.TS.Int64()
	if err != nil {
		fl, ferr := j.TS.Float64()
		if ferr != nil || fl != math.Trunc(fl) || math.Abs(fl) > 1<<53 {
			return BadTime, "ts is not a whole number of milliseconds: " + j.TS.String()
		}
		ms = int64(fl)
	}
	f.t = ms
	f.ip, f.target = *j.IP, *j.Path
	if j.UA != nil {
		f.ua = *j.UA
	}
	return checkJSONL(f)
}

// checkJSONL turns f.t from milliseconds into nanoseconds within a sane range.
func checkJSONL(f *fields) (string, string) {
	// 1990 … 2200, in milliseconds.
	if f.t < 631152000000 || f.t > 7258118400000 {
		return BadTime, fmt.Sprintf("ts %d is not a time in Unix milliseconds", f.t)
	}
	f.t *= 1e6
	return "", ""
}

// fastJSONL scans a flat object of string and integer values; false sends
// the line to encoding/json (which then also decides whether it is bad).
func fastJSONL(s string, f *fields) bool {
	*f = fields{method: "GET"}
	var haveTS, haveIP, havePath bool
	i := skipWS(s, 0)
	if i >= len(s) || s[i] != '{' {
		return false
	}
	i = skipWS(s, i+1)
	if i < len(s) && s[i] == '}' {
		return false
	}
	for {
		key, j, ok := plainString(s, i)
		if !ok || foldedKey(key) {
			return false
		}
		i = skipWS(s, j)
		if i >= len(s) || s[i] != ':' {
			return false
		}
		i = skipWS(s, i+1)
		if i >= len(s) {
			return false
		}
		if s[i] == '"' {
			val, j, ok := plainString(s, i)
			if !ok {
				return false
			}
			i = j
			switch key {
			case "ip":
				f.ip, haveIP = val, true
			case "path":
				f.target, havePath = val, true
			case "ua":
				f.ua = val
			case "ts":
				return false
			}
		} else {
			j := i
			for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == '-') {
				j++
			}
			if !jsonInt(s[i:j]) {
				return false // true, false, null, objects, arrays, fractions, bad numbers
			}
			if key == "ts" {
				v, err := strconv.ParseInt(s[i:j], 10, 64)
				if err != nil {
					return false
				}
				f.t, haveTS = v, true
			}
			i = j
		}
		i = skipWS(s, i)
		if i >= len(s) {
			return false
		}
		switch s[i] {
		case ',':
			i = skipWS(s, i+1)
			continue
		case '}':
			return haveTS && haveIP && havePath && skipWS(s, i+1) == len(s)
		}
		return false
	}
}

// plainString returns the string starting at s[i] == '"' and the index
// after its closing quote. JSON escapes are decoded (allocating only then);
// false — the slow path decides — on a control character, invalid UTF-8
// (encoding/json would replace it), a bad escape or a lone surrogate.
func plainString(s string, i int) (string, int, bool) {
	if i >= len(s) || s[i] != '"' {
		return "", 0, false
	}
	ascii := true
	for j := i + 1; j < len(s); j++ {
		switch c := s[j]; {
		case c == '"':
			v := s[i+1 : j]
			if !ascii && !utf8.ValidString(v) {
				return "", 0, false
			}
			return v, j + 1, true
		case c == '\\':
			return unescapeJSON(s, i)
		case c < 0x20:
			return "", 0, false
		case c >= 0x80:
			ascii = false
		}
	}
	return "", 0, false
}

// unescapeJSON decodes the string starting at s[i] == '"' that has escapes.
func unescapeJSON(s string, i int) (string, int, bool) {
	b := make([]byte, 0, 64)
	for j := i + 1; j < len(s); j++ {
		c := s[j]
		switch {
		case c == '"':
			if !utf8.Valid(b) {
				return "", 0, false
			}
			return string(b), j + 1, true
		case c < 0x20:
			return "", 0, false
		case c != '\\':
			b = append(b, c)
			continue
		}
		if j+1 >= len(s) {
			return "", 0, false
		}
		j++
		switch s[j] {
		case '"', '\\', '/':
			b = append(b, s[j])
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r, ok := hex4(s, j+1)
			if !ok || utf16.IsSurrogate(r) {
				return "", 0, false // surrogate pairs: left to encoding/json
			}
			b = utf8.AppendRune(b, r)
			j += 4
		default:
			return "", 0, false
		}
	}
	return "", 0, false
}

func hex4(s string, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	var r rune
	for _, c := range []byte(s[i : i+4]) {
		v, ok := frontend.Unhex(c)
		if !ok {
			return 0, false
		}
		r = r<<4 | rune(v)
	}
	return r, true
}

// foldedKey: a key encoding/json would take for one of ours (it matches
// names case-insensitively) that is not spelled as ours.
func foldedKey(k string) bool {
	switch k {
	case "ts", "ip", "path", "ua":
		return false
	}
	return strings.EqualFold(k, "ts") || strings.EqualFold(k, "ip") || strings.EqualFold(k, "path") || strings.EqualFold(k, "ua")
}

// jsonInt: -?(0|[1-9][0-9]*), JSON's integers.
func jsonInt(s string) bool {
	if len(s) > 0 && s[0] == '-' {
		s = s[1:]
	}
	if len(s) == 0 || s[0] == '0' && len(s) > 1 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func skipWS(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n') {
		i++
	}
	return i
}
