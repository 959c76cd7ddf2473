package ocelot

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/ratioguard/ratioguard/tracker/control"
	"github.com/ratioguard/ratioguard/tracker/control/controltest"
)

const (
	secret    = "00000000000000000000000000secret"
	reportKey = "0000000000000000000000000report0"
)

// rawurlencode is PHP's: everything but [A-Za-z0-9_.~-] as %XX.
func rawurlencode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

// gazelle builds an update as Gazelle's Tracker::update_tracker does:
// SECRET/update?action=ACTION&key=value... with the values as given (the
// caller rawurlencodes info_hashes, as infohashEncoded() does).
func gazelle(secret, action string, kv ...string) string {
	g := "/" + secret + "/update?action=" + action
	for i := 0; i < len(kv); i += 2 {
		g += "&" + kv[i] + "=" + kv[i+1]
	}
	return g
}

func start(t testing.TB) *controltest.Env {
	return controltest.Start(t, func(r chi.Router, svc *control.Service) {
		New(svc, Config{SiteSecret: secret, ReportKey: reportKey}, svc.Log()).Mount(r)
	})
}

func update(t *testing.T, e *controltest.Env, action string, kv ...string) {
	t.Helper()
	code, body := e.Get(gazelle(secret, action, kv...))
	if code != 200 || body != "success" {
		t.Fatalf("%s: %d %q", action, code, body)
	}
}

func ih(n byte) [20]byte {
	// Bytes that need escaping, '+' and '&' among them.
	return [20]byte{n, '+', '&', '=', ' ', '%', 0, 0xff, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
}

// Gazelle drives the tracker unmodified: each request built as
// app/Tracker.php builds it takes effect at announce within 2 s.
func TestGazelleDrivesTheTracker(t *testing.T) {
	e := start(t)
	const (
		pkA  = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1"
		pkA2 = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa2"
		pkB  = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb1"
	)
	h1, h2 := ih(1), ih(2)
	ann := func(pk string, h [20]byte, down uint64, left uint64) (string, uint64) {
		t.Helper()
		f, ev := e.Do(controltest.Announce{Path: "/" + pk + "/announce", InfoHash: h, Downloaded: down, Left: left})
		return f, ev.GetCreditedDownloaded()
	}
	if f, _ := ann(pkA, h1, 0, 100); !strings.Contains(f, "unknown passkey") {
		t.Fatalf("before add_user: %q", f)
	}
	update(t, e, "add_user", "passkey", pkA, "id", "101", "visible", "1")
	update(t, e, "add_user", "passkey", pkB, "id", "102", "visible", "0")
	update(t, e, "add_torrent", "info_hash", rawurlencode(string(h1[:])), "id", "7001", "freetorrent", "0")
	update(t, e, "add_torrent", "info_hash", rawurlencode(string(h2[:])), "id", "7002", "freetorrent", "0")
	e.Eventually("add_user and add_torrent at announce", func() bool { f, _ := ann(pkA, h1, 0, 100); return f == "" })
	if _, c := ann(pkA, h1, 1000, 100); c != 1000 {
		t.Fatalf("normal torrent credited download %d, want 1000", c)
	}
	if n := e.Count("SELECT count(*) FROM users WHERE site_id IN (101, 102)"); n != 2 {
		t.Fatalf("%d members with the site's ids", n)
	}

	// Freeleech, then neutral leech, on both torrents at once.
	update(t, e, "update_torrents", "info_hashes", rawurlencode(string(h1[:])+string(h2[:])), "freetorrent", "1")
	down := uint64(1000)
	e.Eventually("update_torrents freeleech", func() bool { down += 1000; _, c := ann(pkA, h1, down, 100); return c == 0 })
	update(t, e, "update_torrent", "info_hash", rawurlencode(string(h1[:])), "freetorrent", "2")
	e.Eventually("update_torrent neutral", func() bool {
		down += 1000
		f, ev := e.Do(controltest.Announce{Path: "/" + pkA + "/announce", InfoHash: h1, Downloaded: down, Uploaded: down, Left: 100})
		return f == "" && ev.GetCreditedDownloaded() == 0 && ev.GetCreditedUploaded() == 0 && ev.GetDeltaUploaded() > 0
	})
	update(t, e, "update_torrent", "info_hash", rawurlencode(string(h2[:])), "freetorrent", "0")
	ann(pkA, h2, 0, 100)
	ann(pkB, h2, 0, 100)
	downA, downB := uint64(0), uint64(0)
	e.Eventually("update_torrent normal", func() bool { downA += 1000; _, c := ann(pkA, h2, downA, 100); return c == 1000 })

	// A freeleech token is honoured for its holder only.
	update(t, e, "add_token", "info_hash", rawurlencode(string(h2[:])), "userid", "101")
	if n := e.Count("SELECT count(*) FROM freeleech_tokens WHERE expires_on_completion"); n != 1 {
		t.Fatal("Gazelle's token does not end on completion")
	}
	e.Eventually("add_token", func() bool { downA += 1000; _, c := ann(pkA, h2, downA, 100); return c == 0 })
	downB += 1000
	if _, c := ann(pkB, h2, downB, 100); c != 1000 {
		t.Fatalf("member without the token credited %d, want 1000", c)
	}
	update(t, e, "remove_token", "info_hash", rawurlencode(string(h2[:])), "userid", "101")
	e.Eventually("remove_token", func() bool { downA += 1000; _, c := ann(pkA, h2, downA, 100); return c == 1000 })

	// Leeching disabled, then allowed again.
	update(t, e, "update_user", "passkey", pkB, "can_leech", "0", "visible", "1")
	e.Eventually("update_user can_leech=0", func() bool { f, _ := ann(pkB, h2, downB, 100); return strings.Contains(f, "leeching is disabled") })
	update(t, e, "update_user", "passkey", pkB, "can_leech", "1", "visible", "1")
	e.Eventually("update_user can_leech=1", func() bool { f, _ := ann(pkB, h2, downB, 100); return f == "" })

	// A new passkey is accepted and the old one refused.
	update(t, e, "change_passkey", "oldpasskey", pkA, "newpasskey", pkA2)
	e.Eventually("change_passkey", func() bool {
		fOld, _ := ann(pkA, h2, downA, 100)
		fNew, _ := ann(pkA2, h2, downA, 100)
		return strings.Contains(fOld, "unknown passkey") && fNew == ""
	})

	// A deleted torrent tells its reason.
	update(t, e, "delete_torrent", "info_hash", rawurlencode(string(h2[:])), "id", "7002", "reason", "0")
	e.Eventually("delete_torrent", func() bool { f, _ := ann(pkA2, h2, downA, 100); return f == "unregistered torrent: Dupe" })

	// info_torrent.
	code, body := e.Get(gazelle(secret, "info_torrent", "info_hash", rawurlencode(string(h1[:]))))
	var info map[string]any
	if err := json.Unmarshal([]byte(body), &info); code != 200 || err != nil || info["id"] != 7001.0 || info["free"] != 2.0 {
		t.Fatalf("info_torrent: %d %q", code, body)
	}
	code, body = e.Get(gazelle(secret, "info_torrent", "info_hash", rawurlencode(string(h2[:]))))
	if err := json.Unmarshal([]byte(body), &info); code != 200 || err != nil || info["fail"] != 1.0 {
		t.Fatalf("info_torrent of a deleted torrent: %d %q", code, body)
	}

	// Reports as Gazelle reads them.
	code, body = e.Get("/" + reportKey + "/report?get=stats")
	if code != 200 || !strings.Contains(body, " leechers tracked\n") || !strings.Contains(body, " seeders tracked\n") {
		t.Fatalf("report stats: %d %q", code, body)
	}
	code, body = e.Get("/" + reportKey + "/report?get=user&key=" + pkB)
	var user map[string]any
	if err := json.Unmarshal([]byte(body), &user); code != 200 || err != nil || user["id"] != 102.0 || user["leeching"] != 1.0 || user["can_leech"] != 1.0 {
		t.Fatalf("report user: %d %q", code, body)
	}

	// Members removed one and several at a time are refused.
	update(t, e, "remove_user", "passkey", pkB)
	e.Eventually("remove_user", func() bool { f, _ := ann(pkB, h1, 0, 100); return strings.Contains(f, control.RemovedReason) })
	update(t, e, "add_user", "passkey", pkB, "id", "102", "visible", "1")
	e.Eventually("add_user restores", func() bool { f, _ := ann(pkB, h1, 0, 100); return f == "" })
	update(t, e, "remove_users", "passkeys", pkA2+pkB)
	e.Eventually("remove_users", func() bool {
		fa, _ := ann(pkA2, h1, 0, 100)
		fb, _ := ann(pkB, h1, 0, 100)
		return strings.Contains(fa, control.RemovedReason) && strings.Contains(fb, control.RemovedReason)
	})
}

// Ocelot's whitelist and run-time settings.
func TestGazelleWhitelistAndInterval(t *testing.T) {
	e := start(t)
	rules := func(prefix string) int {
		return e.Count("SELECT count(*) FROM client_rules WHERE peer_id_prefix = $1 AND allowed", prefix)
	}
	update(t, e, "add_whitelist", "peer_id", "-ZZ")
	if rules("-ZZ") != 1 {
		t.Fatal("add_whitelist made no allowing rule")
	}
	update(t, e, "edit_whitelist", "old_peer_id", "-ZZ", "new_peer_id", "-YY")
	if rules("-ZZ") != 0 || rules("-YY") != 1 {
		t.Fatal("edit_whitelist did not rename the rule")
	}
	update(t, e, "remove_whitelist", "peer_id", "-YY")
	if rules("-YY") != 0 {
		t.Fatal("remove_whitelist left the rule")
	}
	update(t, e, "update_announce_interval", "new_announce_interval", "2400")
	update(t, e, "update_announce_jitter", "new_announce_jitter", "60")
	if i, j := e.Core.Intervals(); i.Seconds() != 2400 || j.Seconds() != 60 {
		t.Fatalf("intervals %v %v", i, j)
	}
}

// Bad input: each a clear error with an HTTP status Gazelle reports as a
// failed update, and nothing changed.
func TestGazelleBadInput(t *testing.T) {
	e := start(t)
	update(t, e, "add_user", "passkey", "cccccccccccccccccccccccccccccccc", "id", "5", "visible", "1")
	h := ih(3)
	before := e.Count("SELECT count(*) FROM audit_log")
	for _, tc := range []struct {
		path string
		code int
		msg  string
	}{
		{gazelle("wrongsecret", "add_user", "passkey", "dddddddddddddddddddddddddddddddd", "id", "6"), 403, "authentication failure"},
		{gazelle(secret, "frobnicate"), 400, `unknown action "frobnicate"`},
		{gazelle(secret, "add_torrent", "info_hash", rawurlencode(string(h[:19])), "id", "1", "freetorrent", "0"), 400, "info_hash is 19 bytes"},
		{gazelle(secret, "add_torrent", "info_hash", "%zz", "id", "1", "freetorrent", "0"), 400, "invalid URL escape"},
		{gazelle(secret, "add_torrent", "info_hash", rawurlencode(string(h[:])), "id", "x", "freetorrent", "0"), 400, `id "x" is not a positive integer`},
		{gazelle(secret, "add_torrent", "info_hash", rawurlencode(string(h[:])), "id", "1", "freetorrent", "7"), 400, "freetorrent \"7\""},
		{gazelle(secret, "update_torrent", "info_hash", rawurlencode(string(h[:])), "freetorrent", "1"), 404, "not found"},
		{gazelle(secret, "update_torrents", "info_hashes", rawurlencode(string(h[:])+"x"), "freetorrent", "1"), 400, "not a whole number"},
		{gazelle(secret, "add_user", "passkey", "short", "id", "6"), 400, "not 32 characters"},
		{gazelle(secret, "add_user", "passkey", "cccccccccccccccccccccccccccccccc", "id", "6"), 409, "a member with this passkey already exists"},
		{gazelle(secret, "change_passkey", "oldpasskey", "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee", "newpasskey", "ffffffffffffffffffffffffffffffff"), 404, "not found"},
		{gazelle(secret, "remove_users", "passkeys", "cccccccccccccccccccccccccccccccc"+"abc"), 400, "not a whole number of 32-character"},
		{gazelle(secret, "delete_torrent", "info_hash", rawurlencode(string(h[:])), "reason", "99"), 400, "not one of Ocelot's codes"},
		{gazelle(secret, "update_announce_interval", "new_announce_interval", "0"), 400, "not a whole number of seconds"},
		{gazelle(secret, "add_user", "passkey", "dddddddddddddddddddddddddddddddd", "id", "6", "id", "7"), 400, "given twice"},
		{gazelle(secret, "update_torrent", "info_hash", rawurlencode(string(h[:]))), 400, "missing parameter freetorrent"},
		{gazelle(secret, "delete_torrent", "reason", "1"), 400, "missing parameter info_hash"},
		{gazelle(secret, "add_token", "info_hash", rawurlencode(string(h[:])), "userid", "0"), 400, `userid "0" is not a positive integer`},
		{gazelle(secret, "remove_token", "info_hash", rawurlencode(string(h[:2]))), 400, "info_hash is 2 bytes"},
		{gazelle(secret, "update_user", "passkey", "cccccccccccccccccccccccccccccccc", "can_leech", "yes"), 400, `can_leech "yes" is not 0 or 1`},
		{gazelle(secret, "update_user", "passkey", "cccccccccccccccccccccccccccccccc", "visible", "2"), 400, `visible "2" is not 0 or 1`},
		{gazelle(secret, "remove_user"), 400, "missing parameter passkey"},
		{gazelle(secret, "change_passkey", "oldpasskey", "cccccccccccccccccccccccccccccccc", "newpasskey", "x"), 400, "newpasskey"},
		{gazelle(secret, "add_whitelist", "peer_id", strings.Repeat("-", 21)), 400, "at most 20"},
		{gazelle(secret, "edit_whitelist", "old_peer_id", "-qB"), 400, "missing parameter new_peer_id"},
		{gazelle(secret, "remove_whitelist", "peer_id", "-ZZ"), 404, `no client rule with prefix "-ZZ"`},
		{gazelle(secret, "update_announce_jitter", "new_announce_jitter", "-5"), 400, "not a whole number of seconds"},
		{gazelle(secret, "info_torrent", "info_hash", "abc"), 400, "info_hash is 3 bytes"},
		{gazelle(secret, "remove_users"), 400, "missing parameter passkeys"},
		{"/" + reportKey + "/report?get=user&key=short", 400, "not 32 characters"},
		{"/" + reportKey + "/report?get=nothing", 400, `get "nothing" is not stats or user`},
		{"/" + secret + "/report?get=stats", 403, "authentication failure"},
	} {
		code, body := e.Get(tc.path)
		if code != tc.code || !strings.Contains(body, tc.msg) {
			t.Errorf("%s: %d %q, want %d with %q", tc.path, code, body, tc.code, tc.msg)
		}
	}
	// The announce port serves announces and scrapes only: a control
	// request sent there is refused like any other unknown URL.
	resp, err := http.Get(e.Announce + gazelle(secret, "add_user", "passkey", "dddddddddddddddddddddddddddddddd", "id", "6"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Contains(string(b), "success") || !strings.Contains(string(b), "failure reason") {
		t.Errorf("control request on the announce port: %q", b)
	}
	if after := e.Count("SELECT count(*) FROM audit_log"); after != before {
		t.Errorf("bad requests changed something: %d audit rows, was %d", after, before)
	}
	if n := e.Count("SELECT count(*) FROM users"); n != 1 {
		t.Errorf("%d members after bad requests, want 1", n)
	}
	if n := e.Count("SELECT count(*) FROM torrents"); n != 0 {
		t.Errorf("%d torrents after bad requests, want 0", n)
	}
	if i, _ := e.Core.Intervals(); i.Seconds() != 60 {
		t.Errorf("interval changed to %v by a bad request", i)
	}
}

func TestParseQuery(t *testing.T) {
	p, err := ParseQuery("action=add&info_hash=%01%2B+&empty=&flag")
	if err != nil || p["action"] != "add" || p["info_hash"] != "\x01++" || p["empty"] != "" {
		t.Fatalf("%q %v", p, err)
	}
	if _, ok := p["flag"]; !ok {
		t.Fatal("a parameter without = is dropped")
	}
	for _, bad := range []string{"a=%", "a=%g1", "%zz=1", "a=1&a=2"} {
		if _, err := ParseQuery(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestParams(t *testing.T) {
	p := Params{"h": strings.Repeat("x", 20), "hs": strings.Repeat("y", 40), "short": "abc", "n": "12", "neg": "-3",
		"f0": "0", "f1": "1", "fx": "yes", "freetorrent": "2", "reason": "3", "pk": "0123456789abcdef0123456789ABCDEF"}
	if v, err := p.InfoHash("h"); err != nil || len(v) != 20 {
		t.Fatal(v, err)
	}
	if v, err := p.InfoHashes("hs"); err != nil || len(v) != 2 {
		t.Fatal(v, err)
	}
	if _, err := p.InfoHash("short"); err == nil || !errors.Is(err, control.ErrInvalid) {
		t.Fatal("3-byte info_hash accepted:", err)
	}
	if _, err := p.InfoHash("missing"); err == nil || !strings.Contains(err.Error(), "missing parameter missing") {
		t.Fatal(err)
	}
	if n, err := p.ID("n"); err != nil || n != 12 {
		t.Fatal(n, err)
	}
	if _, err := p.ID("neg"); err == nil {
		t.Fatal("negative id accepted")
	}
	if b, err := p.Flag("f0", true); err != nil || b {
		t.Fatal(b, err)
	}
	if b, err := p.Flag("absent", true); err != nil || !b {
		t.Fatal(b, err)
	}
	if _, err := p.Flag("fx", true); err == nil {
		t.Fatal("flag yes accepted")
	}
	if pr, err := p.Freetorrent(); err != nil || pr != control.PromoNeutral {
		t.Fatal(pr, err)
	}
	if r, err := p.DeleteReason(); err != nil || r != "Bad Folder Names" {
		t.Fatal(r, err)
	}
	if r, err := (Params{"reason": "-1"}).DeleteReason(); err != nil || r != "" {
		t.Fatal(r, err)
	}
	if r, err := (Params{"reason": "duplicate of 123"}).DeleteReason(); err != nil || r != "duplicate of 123" {
		t.Fatal(r, err)
	}
	if _, err := p.Passkey("pk"); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Passkey("short"); err == nil {
		t.Fatal("short passkey accepted")
	}
	if control.HTTPStatus(fmt.Errorf("x: %w", control.ErrConflict)) != http.StatusConflict || control.HTTPStatus(errors.New("db down")) != http.StatusInternalServerError {
		t.Fatal("status mapping")
	}
}
