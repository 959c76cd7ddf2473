package announces

import (
	"encoding/json"
	"testing"
	"time"
)

func TestParseJSONL(t *testing.T) {
	const ms = 1790812800123
	for _, tc := range []struct {
		line           string
		kind           string
		ip, target, ua string
	}{
		{`{"ts":1790812800123,"ip":"36.168.70.205","path":"/pk/announce?a=%f6","ua":"qBittorrent/4.5.2"}`, "", "36.168.70.205", "/pk/announce?a=%f6", "qBittorrent/4.5.2"},
		// Other key order, spaces, extra keys, no ua.
		{` { "path" : "/pk/announce?x=1" , "extra": "y", "n": 5, "ip":"::1", "ts" : 1790812800123 } `, "", "::1", "/pk/announce?x=1", ""},
		// Escapes go through encoding/json.
		{`{"ts":1790812800123,"ip":"1.2.3.4","path":"\/pk\/announce?q=\u0021","ua":"Caf\u00e9 \"x\""}`, "", "1.2.3.4", "/pk/announce?q=!", `Café "x"`},
		{`{"ts":1.790812800123e12,"ip":"1.2.3.4","path":"/p","ua":""}`, "", "1.2.3.4", "/p", ""},
		{`{"ts":1790812800123,"ip":"1.2.3.4","path":"/p","nested":{"a":[1,true,null]}}`, "", "1.2.3.4", "/p", ""},
		{`{"ts":1790812800123,"ip":"1.2.3.4"}`, BadMissing, "", "", ""},
		{`{"ts":"1790812800123","ip":"1.2.3.4","path":"/p"}`, "", "1.2.3.4", "/p", ""}, // encoding/json takes a quoted number
		{`{"ts":"soon","ip":"1.2.3.4","path":"/p"}`, BadJSON, "", "", ""},
		{`{"ts":1790812800.5,"ip":"1.2.3.4","path":"/p"}`, BadTime, "", "", ""},
		{`{"ts":1790812800,"ip":"1.2.3.4","path":"/p"}`, BadTime, "", "", ""}, // seconds, not ms
		{`{"ts":1790812800123,"ip":"1.2.3.4","path":"/p"`, BadJSON, "", "", ""},
		{`{"ts":1790812800123,"ip":"1.2.3.4","path":"/p"} trailing`, BadJSON, "", "", ""},
		{`[1,2]`, BadJSON, "", "", ""},
	} {
		var f fields
		kind, msg := parseJSONL(tc.line, &f)
		if kind != tc.kind {
			t.Errorf("%s: kind %q (%s), want %q", tc.line, kind, msg, tc.kind)
			continue
		}
		if kind != "" {
			continue
		}
		if f.t != ms*1e6 || f.ip != tc.ip || f.target != tc.target || f.ua != tc.ua || f.method != "GET" {
			t.Errorf("%s: %+v", tc.line, f)
		}
	}
}

func TestParseCombined(t *testing.T) {
	at := time.Date(2026, 10, 1, 0, 0, 5, 0, time.UTC).UnixNano()
	for _, tc := range []struct {
		line                   string
		kind                   string
		method, target, ip, ua string
	}{
		{`36.168.70.205 - - [01/Oct/2026:00:00:05 +0000] "GET /pk/announce?info_hash=k%f6 HTTP/1.1" 200 57 "-" "qBittorrent/4.5.2"`,
			"", "GET", "/pk/announce?info_hash=k%f6", "36.168.70.205", "qBittorrent/4.5.2"},
		// Another zone, a user, HTTP/2.0, nginx \xHH escapes in target and UA, extra fields after the UA.
		{`2001:db8::1 - bob [01/Oct/2026:02:00:05 +0200] "GET /pk/announce?peer_id=-lt0D80-\x22x HTTP/2.0" 200 57 "http://r/" "rtorrent/0.9.8/0.13.8 \xE2\x9C\x93" 0.001 "x"`,
			"", "GET", `/pk/announce?peer_id=-lt0D80-"x`, "2001:db8::1", "rtorrent/0.9.8/0.13.8 ✓"},
		// Apache's \" escape; negative zone.
		{`1.2.3.4 - - [30/Sep/2026:19:00:05 -0500] "GET /pk/announce?a=1 HTTP/1.0" 200 57 "-" "Mozilla \"quoted\""`,
			"", "GET", "/pk/announce?a=1", "1.2.3.4", `Mozilla "quoted"`},
		// Common log format: no referer, no UA; UA "-" is empty.
		{`1.2.3.4 - - [01/Oct/2026:00:00:05 +0000] "GET /pk/scrape?info_hash=x HTTP/1.1" 200 10`, "", "GET", "/pk/scrape?info_hash=x", "1.2.3.4", ""},
		{`1.2.3.4 - - [01/Oct/2026:00:00:05 +0000] "POST /pk/announce HTTP/1.1" 405 10 "-" "-"`, "", "POST", "/pk/announce", "1.2.3.4", ""},
		{`1.2.3.4 - - [01/Oct/2026:00:00:05 +0000] "GET /pk/announce?a=1" 200 10 "-" "ua"`, "", "GET", "/pk/announce?a=1", "1.2.3.4", "ua"},
		{`1.2.3.4 - - [01/Oct/2026:00:00:05] "GET / HTTP/1.1" 200 1 "-" "-"`, BadTime, "", "", "", ""},
		{`1.2.3.4 - - [31/Feb/2026:00:00:05 +0000] "GET / HTTP/1.1" 200 1 "-" "-"`, BadTime, "", "", "", ""},
		{`1.2.3.4 - - [01/Okt/2026:00:00:05 +0000] "GET / HTTP/1.1" 200 1 "-" "-"`, BadTime, "", "", "", ""},
		{`1.2.3.4 - - [01/Oct/2026:00:00:05 +0000] GET / HTTP/1.1 200 1`, BadRequest, "", "", "", ""},
		{`1.2.3.4 - - [01/Oct/2026:00:00:05 +0000] "GET /unterminated`, BadRequest, "", "", "", ""},
		// Not a request (the method is empty: skipped as such).
		{`1.2.3.4 - - [01/Oct/2026:00:00:05 +0000] "-" 400 0 "-" "-"`, "", "", "", "1.2.3.4", ""},
		{`1.2.3.4 - - [01/Oct/2026:00:00:05 +0000] "\x16\x03\x01\x02\x00" 400 157 "-" "-"`, "", "", "", "1.2.3.4", ""},
		{`garbage`, BadRequest, "", "", "", ""},
	} {
		var f fields
		kind, msg := parseCombined(tc.line, &f)
		if kind != tc.kind {
			t.Errorf("%s: kind %q (%s), want %q", tc.line, kind, msg, tc.kind)
			continue
		}
		if kind != "" {
			continue
		}
		if f.t != at || f.method != tc.method || f.target != tc.target || f.ip != tc.ip || f.ua != tc.ua {
			t.Errorf("%s:\n got %+v (time %s)", tc.line, f, time.Unix(0, f.t).UTC())
		}
	}
}

// The scanner agrees with encoding/json on every line it accepts.
func FuzzJSONLFastPath(f *testing.F) {
	for _, s := range []string{
		`{"ts":1790812800123,"ip":"36.168.70.205","path":"/pk/announce?a=%f6&b=1","ua":"qBittorrent/4.5.2"}`,
		`{"ts":1790812800123,"ip":"1.2.3.4","path":"\/pk\/announce?q=\u0021\u0026x","ua":"Caf\u00e9 \"x\" \\ \t"}`,
		`{"ts":1790812800123,"ip":"1.2.3.4","path":"/p","ua":"\ud83d\ude00"}`,
		`{"ts":1790812800123,"ip":"1.2.3.4","path":"/p","ua":"é"}`,
		"{\"ts\":1790812800123,\"ip\":\"1.2.3.4\",\"path\":\"/p\",\"ua\":\"\xff\"}",
		`{"ts":-5,"ip":"","path":"","ua":"","ts":1790812800123}`,
		`{"ts":1790812800123,"ip":"1.2.3.4","path":"/p","ua":"\u00"}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var fast fields
		if !fastJSONL(s, &fast) {
			return
		}
		var j jsonLine
		if err := json.Unmarshal([]byte(s), &j); err != nil {
			t.Fatalf("%q: scanned as %+v, encoding/json: %v", s, fast, err)
		}
		ms, err := j.TS.Int64()
		ua := ""
		if j.UA != nil {
			ua = *j.UA
		}
		if err != nil || ms != fast.t || *j.IP != fast.ip || *j.Path != fast.target || ua != fast.ua {
			t.Fatalf("%q: scanned %+v, encoding/json %v %q %q %q", s, fast, j.TS, *j.IP, *j.Path, ua)
		}
	})
}
