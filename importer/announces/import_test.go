package announces

import (
	"io"
	"log/slog"
	"maps"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/proto"

	"github.com/ratioguard/ratioguard/schemas/events"
	"github.com/ratioguard/ratioguard/tracker/core"
	"github.com/ratioguard/ratioguard/tracker/frontend"
)

var t0 = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)

// Every line is counted once: replayed, skipped by kind or bad by kind; bad
// lines are quoted with file:line up to MaxReported, then counted.
func TestEveryLineCounted(t *testing.T) {
	dir := t.TempDir()
	good := announceTarget(pkA, ih1, "-qB4520-aaaaaaaaaaaa", 40000, 0, 0, 0, "started")
	jl := writeFile(t, dir, "requests.jsonl", false,
		popgenLine(t0, "192.0.2.1", good, "qBittorrent/4.5.2"), // 1
		"",                                      // 2 blank
		`{"ts":1790812800000,"ip":"192.0.2.1"`,  // 3 not JSON
		`{"ts":1790812801000,"ip":"192.0.2.1"}`, // 4 missing path
		popgenLine(t0.Add(time.Second), "not-an-ip", good, "qBittorrent/4.5.2"),                                   // 5 bad address
		popgenLine(t0.Add(time.Second), "192.0.2.1", "/"+pkA+"/announce?a=\x01", "q"),                             // 6 bad target (control byte)
		popgenLine(t0.Add(2*time.Second), "192.0.2.1", "/"+pkA+"/scrape?info_hash=x", "q"),                        // 7 scrape
		popgenLine(t0.Add(2*time.Second), "192.0.2.1", "/favicon.ico", "q"),                                       // 8 other
		popgenLine(t0.Add(3*time.Second), "192.0.2.9", "/"+pkA+"/announce?info_hash=short", "q"),                  // 9 replayed, refused as malformed
		popgenLine(t0.Add(3*time.Second), "192.0.2.1", "/"+pkX+"/announce?"+strings.SplitN(good, "?", 2)[1], "q"), // 10 unknown passkey
		`{"ts":1790812800000,"ip":"192.0.2.1","path":"/p"`+strings.Repeat(" ", maxLineSize)+`}`,                   // 11 too long
	)
	res, evs, errs := runImport(t, []string{jl}, Options{MaxReported: 3})
	t.Logf("stderr:\n%s", errs)
	if res.Requests != 3 || len(evs) != 3 || res.Accepted != 1 || res.Refused != 2 {
		t.Fatalf("requests %d, events %d, accepted %d, refused %d", res.Requests, len(evs), res.Accepted, res.Refused)
	}
	wantRef := map[string]int64{"REFUSAL_MALFORMED": 1, "REFUSAL_UNKNOWN_PASSKEY": 1}
	if !maps.Equal(res.Refusals, wantRef) {
		t.Errorf("refusals %v", res.Refusals)
	}
	wantBad := map[string]int64{BadJSON: 1, BadMissing: 1, BadIP: 1, BadTarget: 1, BadTooLong: 1}
	if !maps.Equal(res.Bad, wantBad) || res.BadLines != 5 {
		t.Errorf("bad %v (%d)", res.Bad, res.BadLines)
	}
	wantSkip := map[string]int64{SkipBlank: 1, SkipScrape: 1, SkipOther: 1}
	if !maps.Equal(res.Skipped, wantSkip) {
		t.Errorf("skipped %v", res.Skipped)
	}
	if f := res.Files[0]; f.Lines != 11 || f.Requests != 3 || f.Format != FormatJSONL || f.Gzip {
		t.Errorf("file %+v", f)
	}
	for _, want := range []string{jl + ":3: " + BadJSON, jl + ":4: " + BadMissing, jl + ":5: " + BadIP, "(further bad lines are only counted)", "2 more bad lines not shown"} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q", want)
		}
	}
	if strings.Contains(errs, jl+":6:") {
		t.Errorf("more than MaxReported lines quoted")
	}
}

// Combined logs, gzipped or not, recognised by content whatever their names:
// only GETs of announce URLs are replayed, the same requests as JSON lines
// give the same events.
func TestCombinedGzipAndFormatDetection(t *testing.T) {
	dir := t.TempDir()
	a := announceTarget(pkA, ih1, "-qB4520-aaaaaaaaaaaa", 40000, 0, 0, 0, "started")
	b := announceTarget(pkB, ih1, "-qB4520-bbbbbbbbbbbb", 40001, 0, 0, 1<<20, "started")
	a2 := announceTarget(pkA, ih1, "-qB4520-aaaaaaaaaaaa", 40000, 5000, 0, 0, "")
	var comb, jsonl []string
	for i, tg := range []string{a, b, a2} {
		at := t0.Add(time.Duration(i) * 20 * time.Minute)
		ip := []string{"192.0.2.1", "2001:db8::2", "192.0.2.1"}[i]
		comb = append(comb, combinedLine(at, ip, "GET", tg, "qBittorrent/4.5.2"))
		jsonl = append(jsonl, popgenLine(at, ip, tg, "qBittorrent/4.5.2"))
	}
	comb = append(comb,
		combinedLine(t0.Add(2*time.Hour), "192.0.2.1", "POST", a, "x"),
		combinedLine(t0.Add(2*time.Hour), "192.0.2.1", "HEAD", a, "x"),
		combinedLine(t0.Add(2*time.Hour), "192.0.2.1", "GET", "/"+pkA+"/scrape?info_hash=x", "x"),
		`192.0.2.1 - - [01/Oct/2026:02:00:00 +0000] "\x16\x03\x01" 400 0 "-" "-"`,
		`192.0.2.1 - - [01/Oct/2026 02:00:00 +0000] "GET / HTTP/1.1" 200 0 "-" "-"`)
	prod := [8]byte{'t', 'e', 's', 't'}
	plain, _, _ := runImport(t, []string{writeFile(t, dir, "access.log", false, comb...)}, Options{Producer: prod})
	gz, gzEvs, _ := runImport(t, []string{writeFile(t, dir, "access.log.1", true, comb...)}, Options{Producer: prod})
	js, jsEvs, _ := runImport(t, []string{writeFile(t, dir, "popgen.txt", true, jsonl...)}, Options{})
	if f := gz.Files[0]; f.Format != FormatCombined || !f.Gzip || f.Lines != 8 {
		t.Fatalf("gzip file %+v", f)
	}
	if f := js.Files[0]; f.Format != FormatJSONL || !f.Gzip {
		t.Fatalf("jsonl file %+v", f)
	}
	if plain.Digest != gz.Digest || plain.Requests != 3 || plain.Accepted != 3 {
		t.Fatalf("plain %+v\ngzip %+v", plain, gz)
	}
	if want := map[string]int64{SkipMethod: 2, SkipScrape: 1, SkipNoRequest: 1}; !maps.Equal(gz.Skipped, want) {
		t.Errorf("skipped %v", gz.Skipped)
	}
	if gz.BadLines != 1 || gz.Bad[BadTime] != 1 {
		t.Errorf("bad %v", gz.Bad)
	}
	// Same requests, same events, except for the producer id (other files).
	if len(gzEvs) != 3 || len(jsEvs) != 3 {
		t.Fatalf("%d and %d events", len(gzEvs), len(jsEvs))
	}
	for i := range gzEvs {
		x, y := proto.Clone(gzEvs[i]).(*events.Announce), proto.Clone(jsEvs[i]).(*events.Announce)
		x.EventId, x.ProducerId, y.EventId, y.ProducerId = nil, nil, nil, nil
		if !proto.Equal(x, y) {
			t.Errorf("event %d: combined %v\njsonl %v", i, x, y)
		}
	}
	// The third announce credits A's 5000 bytes uploaded.
	if ev := gzEvs[2]; ev.GetUserId() != 1 || ev.GetDeltaUploaded() != 5000 || ev.GetTorrentId() != 10 {
		t.Errorf("third event %v", ev)
	}
	if ev := gzEvs[1]; !netip.MustParseAddr("2001:db8::2").Is6() || len(ev.GetIp()) != 16 {
		t.Errorf("IPv6 event ip %x", ev.GetIp())
	}
}

// Files are merged by time, equal times in argument order; a line a little
// out of order is replayed at the clock, one beyond --max-lag is bad.
func TestMergeOrderAndLateLines(t *testing.T) {
	dir := t.TempDir()
	tg := func(pk, peer string) string {
		return announceTarget(pk, ih1, peer, 40000, 0, 0, 0, "")
	}
	ua := "qBittorrent/4.5.2"
	f1 := writeFile(t, dir, "a.jsonl", false,
		popgenLine(t0, "192.0.2.1", tg(pkA, "-qB4520-a00000000000"), ua),
		popgenLine(t0.Add(10*time.Second), "192.0.2.1", tg(pkA, "-qB4520-a10000000000"), ua),
		popgenLine(t0.Add(5*time.Second), "192.0.2.1", tg(pkA, "-qB4520-a05000000000"), ua), // 5 s late: replayed at 0:00:10
		popgenLine(t0.Add(30*time.Second), "192.0.2.1", tg(pkA, "-qB4520-a30000000000"), ua),
	)
	f2 := writeFile(t, dir, "b.log", false,
		combinedLine(t0, "192.0.2.2", "GET", tg(pkB, "-qB4520-b00000000000"), ua),
		combinedLine(t0.Add(20*time.Second), "192.0.2.2", "GET", tg(pkB, "-qB4520-b20000000000"), ua),
		combinedLine(t0.Add(-time.Hour), "192.0.2.2", "GET", tg(pkB, "-qB4520-bearly000000"), ua), // an hour late: bad
		combinedLine(t0.Add(30*time.Second), "192.0.2.2", "GET", tg(pkB, "-qB4520-b30000000000"), ua),
	)
	res, evs, errs := runImport(t, []string{f1, f2}, Options{MaxLag: time.Minute})
	var got []string
	for _, ev := range evs {
		got = append(got, string(ev.GetPeerId()[8:11])+"@"+time.Unix(0, ev.GetTimeUnixNano()).UTC().Format("4:05"))
	}
	want := "a00@0:00 b00@0:00 a10@0:10 a05@0:10 b20@0:20 a30@0:30 b30@0:30"
	if strings.Join(got, " ") != want {
		t.Errorf("order %s\n want %s", strings.Join(got, " "), want)
	}
	if res.Late != 1 || res.MaxLate != 5*time.Second || res.Bad[BadOrder] != 1 || res.Files[1].Bad[BadOrder] != 1 {
		t.Errorf("late %d (max %s), bad %v", res.Late, res.MaxLate, res.Bad)
	}
	if !strings.Contains(errs, f2+":3: "+BadOrder) {
		t.Errorf("stderr %q", errs)
	}
	if !res.LogStart.Equal(t0) || !res.LogTime.Equal(t0.Add(30*time.Second)) {
		t.Errorf("log %s to %s", res.LogStart, res.LogTime)
	}
}

// The same files give the same event ids and bytes; other files another producer.
func TestSameInputSameEvents(t *testing.T) {
	dir := t.TempDir()
	lines := []string{
		popgenLine(t0, "192.0.2.1", announceTarget(pkA, ih1, "-qB4520-aaaaaaaaaaaa", 40000, 0, 0, 0, "started"), "qBittorrent/4.5.2"),
		popgenLine(t0.Add(time.Minute), "192.0.2.2", announceTarget(pkB, ih2, "-qB4520-bbbbbbbbbbbb", 40000, 0, 0, 10, "started"), "qBittorrent/4.5.2"),
	}
	f := writeFile(t, dir, "x.jsonl", false, lines...)
	r1, e1, _ := runImport(t, []string{f}, Options{})
	r2, e2, _ := runImport(t, []string{f}, Options{})
	g := writeFile(t, dir, "y.jsonl", false, lines[0])
	r3, _, _ := runImport(t, []string{g}, Options{})
	if r1.Digest != r2.Digest || r1.Producer != r2.Producer || hexID(e1[1].GetEventId()) != hexID(e2[1].GetEventId()) {
		t.Fatalf("two imports of one file differ: %s %s", r1.Digest, r2.Digest)
	}
	if r3.Producer == r1.Producer || !strings.HasPrefix(r1.Producer, hexID([]byte("im"))) {
		t.Fatalf("producers %s %s", r1.Producer, r3.Producer)
	}
	if e1[0].GetSequence() != 1 || e1[1].GetSequence() != 2 {
		t.Fatalf("sequences %d %d", e1[0].GetSequence(), e1[1].GetSequence())
	}
}

// fixedClock is the live core's clock in the comparison below.
type fixedClock struct{ t time.Time }

func (c *fixedClock) Now() time.Time { return c.t }

type liveSink struct{ evs []*events.Announce }

func (s *liveSink) Publish(ev *events.Announce) {
	s.evs = append(s.evs, proto.Clone(ev).(*events.Announce))
}

// What the importer makes of a log line equals what the live handler makes
// of the same request over HTTP: real clients' queries (popgen's, with their
// encodings and parameter orders) and malformed ones, as JSON lines and as
// combined log lines.
func TestReplayEqualsLiveHandler(t *testing.T) {
	cases := []struct{ ip, target, ua string }{
		// popgen lines (requests.jsonl of seed 1, passkeys and info_hashes replaced by the test site's).
		{"36.168.70.205", "/" + pkA + "/announce?info_hash=k%f6%b0v%03%c1%0a%1a%e7%1e%c1O%1b9%e1%9e%b3%bd%2c%fb&peer_id=-qB4520-!Ld*C-JIbQdJ&port=40294&uploaded=173534629&downloaded=0&left=0&corrupt=0&key=B8C1F545&event=stopped&numwant=0&compact=1&no_peer_id=1&supportcrypto=1&redundant=0", "qBittorrent/4.5.2"},
		{"37.66.144.89", "/" + pkB + "/announce?info_hash=I0W%1D%BF%CA%E8%5D%E0%F0%3F%08%8F%22Q%F4%FD%96%F8Q&peer_id=A2-1-36-0-%22E%2F%BE%AA%13%87%A0%19L&uploaded=21822412930&downloaded=0&left=0&compact=1&key=%2F%BE%AA%13%87%A0%19L&numwant=0&no_peer_id=1&port=6943&event=started&supportcrypto=1", "aria2/1.36.0"},
		{"183.193.123.249", "/" + pkA + "/announce?info_hash=I0W%1D%BF%CA%E8%5D%E0%F0%3F%08%8F%22Q%F4%FD%96%F8Q&peer_id=-TR3000-kk8o1x98xjds&port=48230&uploaded=4257325&downloaded=0&left=0&numwant=0&key=3746c876&compact=1&supportcrypto=1&event=started&ipv6=2001%3Adb8%3A%3A1", "Transmission/3.00"},
		{"220.219.32.239", "/" + pkB + "/announce?info_hash=k%f6%b0v%03%c1%0a%1a%e7%1e%c1O%1b9%e1%9e%b3%bd%2c%fb&peer_id=-DE203s-JVJa3))tzUX7&port=31411&uploaded=4580982&downloaded=0&left=0&corrupt=0&key=87888AC6&event=started&numwant=0&compact=1&no_peer_id=1&supportcrypto=1", "Deluge/2.0.3 libtorrent/1.2.5.0"},
		{"1.254.201.6", "/" + pkA + "/announce?info_hash=k%f6%b0v%03%c1%0a%1a%e7%1e%c1O%1b9%e1%9e%b3%bd%2c%fb&peer_id=-lt0D80-D%F4%FD%E9%A7El%F3%9F%23%11Z&key=aafbf85f&compact=1&port=6990&uploaded=12883240&downloaded=0&left=0", "rtorrent/0.9.8/0.13.8"},
		{"223.207.25.89", "/" + pkB + "/announce?info_hash=%4c%c4%2f%ee%04%eb%e1%84%8a%74%5a%61%b5%4e%8c%e1%a7%b4%51%bf&peer_id=-XL0012-%0F%C7%A3tg%A2%7DU%99%7C5%86&port=38791&uploaded=0&downloaded=0&left=974297049&key=41BE36B1&event=started&numwant=200&compact=1", "Xunlei/0.0.1.2"},
		// uTorrent, an escaped passkey character, an absolute-form target, an IPv6 client.
		{"2001:db8::5", "/" + pkB[:4] + "%65" + pkB[5:] + "/announce?info_hash=k%f6%b0v%03%c1%0a%1a%e7%1e%c1O%1b9%e1%9e%b3%bd%2c%fb&peer_id=-UT355W-%3a%b1%c2aaaaaaaa&port=6881&uploaded=0&downloaded=0&left=0&corrupt=0&key=1A2B3C4D&event=started&numwant=200&compact=1&no_peer_id=1", "uTorrent/355W(46206)"},
		{"192.0.2.7", "http://tracker.example/" + pkA + "/announce?info_hash=k%f6%b0v%03%c1%0a%1a%e7%1e%c1O%1b9%e1%9e%b3%bd%2c%fb&peer_id=-qB4650-zzzzzzzzzzzz&port=6881&uploaded=0&downloaded=0&left=0", "qBittorrent/4.6.5"},
		// Refused: unknown passkey, unknown torrent, malformed queries, a banned port.
		{"192.0.2.8", "/" + pkX + "/announce?info_hash=k%f6%b0v%03%c1%0a%1a%e7%1e%c1O%1b9%e1%9e%b3%bd%2c%fb&peer_id=-qB4650-zzzzzzzzzzzz&port=6881&uploaded=0&downloaded=0&left=0", "qBittorrent/4.6.5"},
		{"192.0.2.8", "/" + pkA + "/announce?info_hash=aaaaaaaaaaaaaaaaaaaa&peer_id=-qB4650-zzzzzzzzzzzz&port=6881&uploaded=0&downloaded=0&left=0", "qBittorrent/4.6.5"},
		{"192.0.2.8", "/" + pkA + "/announce?info_hash=short&peer_id=-qB4650-zzzzzzzzzzzz&port=6881&uploaded=0&downloaded=0&left=0", "qBittorrent/4.6.5"},
		{"192.0.2.8", "/" + pkA + "/announce?info_hash=k%f6%b0v%03%c1%0a%1a%e7%1e%c1O%1b9%e1%9e%b3%bd%2c%fb&peer_id=-qB4650-zzzzzzzzzzzz&port=6881&uploaded=-1&downloaded=0&left=0", "qBittorrent/4.6.5"},
		{"192.0.2.8", "/" + pkA + "/announce?info_hash=k%f6%b0v%03%c1%0a%1a%e7%1e%c1O%1b9%e1%9e%b3%bd%2c%fb&peer_id=-qB4650-zzzzzzzzzzzz&port=22&uploaded=0&downloaded=0&left=0&event=bogus", "qBittorrent/4.6.5"},
		{"192.0.2.8", "/" + pkA + "/announce?info_hash=k%f6%b0v%03%c1%0a%1a%e7%1e%c1O%1b9%e1%9e%b3%bd%2c%fb&peer_id=-qB4650-zzzzzzzzzzzz&port=22&uploaded=0&downloaded=0&left=0", "qBittorrent/4.6.5"},
		{"192.0.2.8", "/" + pkA + "/announce", "curl/8.0"},
		{"192.0.2.8", "/" + pkA + "/announce?", "curl/8.0"},
	}
	// Live: each request over the handler, with a core on a fixed clock.
	clock := &fixedClock{t0}
	sink := &liveSink{}
	c := core.New(core.Config{}, testPolicy(t), sink, clock)
	reg := prometheus.NewRegistry()
	fe, err := frontend.New(c, frontend.Config{}, reg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	var jl, cl []string
	for i, tc := range cases {
		at := t0.Add(time.Duration(i) * time.Second)
		clock.t = at
		r := httptest.NewRequest("GET", tc.target, nil)
		r.RemoteAddr = netip.AddrPortFrom(netip.MustParseAddr(tc.ip), 5000).String()
		r.Header.Set("User-Agent", tc.ua)
		fe.Handler().ServeHTTP(httptest.NewRecorder(), r)
		if len(sink.evs) != i+1 {
			t.Fatalf("case %d %s: the live handler published no event", i, tc.target)
		}
		jl = append(jl, popgenLine(at, tc.ip, tc.target, tc.ua))
		cl = append(cl, combinedLine(at, tc.ip, "GET", tc.target, tc.ua))
	}
	dir := t.TempDir()
	for _, file := range []string{writeFile(t, dir, "log.jsonl", false, jl...), writeFile(t, dir, "access.log", false, cl...)} {
		res, evs, errs := runImport(t, []string{file}, Options{})
		if len(evs) != len(cases) || res.BadLines != 0 {
			t.Fatalf("%s: %d events for %d cases, bad %v\n%s", file, len(evs), len(cases), res.Bad, errs)
		}
		for i := range evs {
			x, y := proto.Clone(sink.evs[i]).(*events.Announce), evs[i]
			if _, err := events.Encode(x); err != nil {
				events.SanitizeStrings(x) // as tracker/stream and the import's sink do
			}
			x.EventId, x.ProducerId, y.EventId, y.ProducerId = nil, nil, nil, nil
			if !proto.Equal(x, y) {
				t.Errorf("%s, case %d (%s):\n live   %v\n import %v", file, i, cases[i].target, x, y)
			}
		}
		if i := len(cases) - 1; i >= 0 && res.Refusals["REFUSAL_UNKNOWN_PASSKEY"] != 1 {
			t.Errorf("refusals %v", res.Refusals)
		}
	}
}
