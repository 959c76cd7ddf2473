package frontend

import (
	"net/url"
	"strings"
	"testing"

	"github.com/ratioguard/ratioguard/tracker/core"
	"github.com/ratioguard/ratioguard/tracker/policy"
)

// The announce URLs the sites' .torrent files carry reach the core as the
// same member: Ocelot's /PASSKEY/announce, UNIT3D's /announce/PASSKEY and
// NexusPHP's /announce.php?passkey=PASSKEY (the passkey anywhere in the
// query, kept in the parameter order).
func TestSiteAnnounceRoutes(t *testing.T) {
	e := newEnv(t, nil, policy.NewCache())
	q := announceQuery("-qB4650-aaaaaaaaaaaa", 6881, 0, "")
	for _, target := range []string{
		"/" + pk2 + "/announce?" + q,
		"/announce/" + pk2 + "?" + q,
		"/announce.php?passkey=" + pk2 + "&" + q,
		"/announce.php?" + q + "&passkey=" + pk2,
	} {
		code, body := e.get(target, "192.0.2.1:5000", nil)
		if _, failed := decodeDict(t, body)["failure reason"]; code != 200 || failed {
			t.Errorf("%s: %d %q, want an answer", target, code, body)
			continue
		}
		if ev := e.sink.last(); ev.UserId != 2 {
			t.Errorf("%s: event for user %d, want 2", target, ev.UserId)
		}
	}
	for _, target := range []string{
		"/announce.php?" + q,                          // no passkey
		"/announce.php?passkey=" + pk2[:31] + "&" + q, // not a member's
		"/announce/?" + q,
		"/announce/" + pk2 + "/x?" + q,
	} {
		_, body := e.get(target, "192.0.2.9:5000", nil)
		msg, _ := decodeDict(t, body)["failure reason"].(string)
		if msg == "" {
			t.Errorf("%s: accepted", target)
		}
	}
}

func TestSiteScrapeRoute(t *testing.T) {
	e := newEnv(t, nil, policy.NewCache())
	ihq := "info_hash=" + url.QueryEscape(string(ih[:]))
	_, body := e.get("/scrape.php?passkey="+pk1+"&"+ihq, "192.0.2.1:5000", nil)
	files, ok := decodeDict(t, body)["files"].(map[string]any)
	if !ok || len(files) != 1 {
		t.Fatalf("scrape.php: %q", body)
	}
	_, body = e.get("/scrape.php?passkey=nope&"+ihq, "192.0.2.1:5000", nil)
	if msg, _ := decodeDict(t, body)["failure reason"].(string); !strings.Contains(msg, "passkey") {
		t.Fatalf("scrape.php with a bad passkey: %q", body)
	}
}

func TestRedactSitePaths(t *testing.T) {
	if got := RedactPath("/announce/" + pk1); got != "/announce/0123…" {
		t.Fatalf("RedactPath = %q", got)
	}
}

// NexusPHP's authkey form (announce.php?authkey=TORRENT|USER|HASH, and
// scrape.php derived from it) is the member the policy says it proves;
// an authkey it refuses is an unknown passkey.
func TestSiteAuthkeyRoutes(t *testing.T) {
	cache := policy.NewCache()
	e := newEnv(t, nil, cache)
	cache.PutUser(pk2, &core.User{ID: 2, SiteID: 7, Enabled: true, CanLeech: true})
	cache.SetReportSecrets(map[uint64]map[uint64]string{2: {0: "abc"}}) // Hashids("abc").encode(20261203) = n7PM5G
	q := announceQuery("-qB4650-aaaaaaaaaaaa", 6881, 0, "")
	for _, ak := range []string{"55|7|n7PM5G", "55%7C7%7Cn7PM5G"} {
		code, body := e.get("/announce.php?authkey="+ak+"&"+q, "192.0.2.1:5000", nil)
		if _, failed := decodeDict(t, body)["failure reason"]; code != 200 || failed {
			t.Fatalf("authkey %s: %d %q, want an answer", ak, code, body)
		}
		if ev := e.sink.last(); ev.UserId != 2 {
			t.Errorf("authkey %s: event for user %d, want 2", ak, ev.UserId)
		}
	}
	_, body := e.get("/announce.php?authkey=55|7|n7PM5H&"+q, "192.0.2.9:5000", nil)
	if msg, _ := decodeDict(t, body)["failure reason"].(string); !strings.Contains(msg, "unknown passkey") {
		t.Errorf("a bad authkey: %q, want an unknown-passkey refusal", body)
	}
	ihq := "info_hash=" + url.QueryEscape(string(ih[:]))
	_, body = e.get("/scrape.php?authkey=55|7|n7PM5G&"+ihq, "192.0.2.1:5000", nil)
	if files, ok := decodeDict(t, body)["files"].(map[string]any); !ok || len(files) != 1 {
		t.Errorf("scrape.php with an authkey: %q", body)
	}
}
