package announces

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

// jsonLine is the slow path's shape of a JSON line.
type jsonLine struct {
	TS   *json.Number `json:"ts"`
	IP   *string      `json:"ip"`
	Path *string      `json:"path"`
	UA   *string      `json:"ua"`
}

// parseJSONL reads {"ts":MS,"ip":"…","path":"…","ua":"…"} (any key order,
// other keys ignored). A flat object whose strings have no escapes is
// scanned without allocating; anything else goes through encoding/json.
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

// fastJSONL scans a flat object of string and integer values without
// escapes; false sends the line to encoding/json (which then also decides
// whether it is bad).
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
		if !ok {
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
			if j == i {
				return false // true, false, null, objects, arrays
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

// plainString returns the string starting at s[i] == '"' when it has no
// escape and no control character, and the index after its closing quote.
func plainString(s string, i int) (string, int, bool) {
	if i >= len(s) || s[i] != '"' {
		return "", 0, false
	}
	for j := i + 1; j < len(s); j++ {
		switch c := s[j]; {
		case c == '"':
			return s[i+1 : j], j + 1, true
		case c == '\\' || c < 0x20:
			return "", 0, false
		}
	}
	return "", 0, false
}

func skipWS(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n') {
		i++
	}
	return i
}
