package frontend

import (
	"net/url"
	"strings"
	"testing"

	"github.com/ratioguard/ratioguard/tracker/core"
)

// FuzzParseAnnounce: any query is either refused with a reason or yields a
// request whose required fields are well-formed.
func FuzzParseAnnounce(f *testing.F) {
	good := announceQuery("-qB4650-aaaaaaaaaaaa", 6881, 0, "&compact=1&event=started&numwant=50&key=abc")
	for _, s := range []string{
		good, "", "&&&", "info_hash=%", "info_hash=%zz", good + "&info_hash=x", good + "&numwant=999999999999999999999",
		strings.Replace(good, "left=0", "left=abc", 1), good + "&" + strings.Repeat("x=1&", 60),
		"info_hash=" + url.QueryEscape(strings.Repeat("\xff", 21)), good + "&event=paused&ipv6=::1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		var r core.Request
		var ps parseState
		bad := parseAnnounce(q, &r, &ps)
		if bad != "" {
			return
		}
		if len(r.InfoHash) != 20 || len(r.PeerID) != 20 || r.Port == 0 || r.NumWant > maxNumWant || len(r.ParamOrder) == 0 {
			t.Fatalf("accepted %q with info_hash %d bytes, peer_id %d bytes, port %d, numwant %d", q, len(r.InfoHash), len(r.PeerID), r.Port, r.NumWant)
		}
	})
}

// FuzzParseScrape: never panics; accepted hashes are exactly 20 bytes.
func FuzzParseScrape(f *testing.F) {
	f.Add("info_hash=" + url.QueryEscape(strings.Repeat("a", 20)))
	f.Add("info_hash=%&info_hash=")
	f.Fuzz(func(t *testing.T, q string) {
		hs, bad := parseScrape(q, nil)
		if bad == "" && (len(hs) == 0 || len(hs) > maxScrape) {
			t.Fatalf("accepted %q with %d hashes", q, len(hs))
		}
	})
}
