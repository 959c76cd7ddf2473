package unit3d

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/ratioguard/ratioguard/schemas/events"
	"github.com/ratioguard/ratioguard/tracker/control"
	"github.com/ratioguard/ratioguard/tracker/control/controltest"
)

const apikey = "unit3d-announce-key-0123456789abcdef"

func start(t *testing.T) *controltest.Env {
	return controltest.Start(t, func(r chi.Router, svc *control.Service) {
		h, err := New(svc, apikey, svc.Log())
		if err != nil {
			t.Fatal(err)
		}
		h.Mount(r)
	})
}

// send is Unit3dAnnounce::put/delete: the data array as a JSON body to
// /announce/KEY/PATH.
func send(t *testing.T, e *controltest.Env, method, path string, data map[string]any) (int, string) {
	t.Helper()
	b, err := json.Marshal(data)
	if err != nil {
		t.Fatal(err)
	}
	return e.Send(method, "/announce/"+apikey+"/"+path, "application/json", bytes.NewReader(b))
}

func ok(t *testing.T, e *controltest.Env, method, path string, data map[string]any) {
	t.Helper()
	if code, body := send(t, e, method, path, data); code != 200 {
		t.Fatalf("%s %s %v: %d %q", method, path, data, code, body)
	}
}

// UNIT3D drives the tracker unmodified: each request built as
// Unit3dAnnounce.php builds it takes effect at announce within 2 s.
func TestUnit3dDrivesTheTracker(t *testing.T) {
	e := start(t)
	const (
		pk    = "AbCdEfGhIjKlMnOpQrStUvWxYz012345"
		newPK = "ZyXwVuTsRqPoNmLkJiHgFeDcBa543210"
		pk2   = "Member2Member2Member2Member2Mem2"
	)
	ih := [20]byte{9, 8, 7, 6, 5, 4, 3, 2, 1, 0, '+', '&', 0xff, 1, 2, 3, 4, 5, 6, 7}
	ann := func(key string, down, up uint64) (string, uint64, uint64) {
		t.Helper()
		f, ev := e.Do(controltest.Announce{Path: "/announce/" + key, InfoHash: ih, Downloaded: down, Uploaded: up, Left: 1000})
		return f, ev.GetCreditedDownloaded(), ev.GetCreditedUploaded()
	}
	// Groups first (as a fresh UNIT3D's sync would), a member of an
	// unknown group, then the group.
	ok(t, e, http.MethodPut, "groups", map[string]any{"id": 3, "slug": "user", "download_slots": nil, "is_immune": false, "is_freeleech": false, "is_double_upload": false})
	ok(t, e, http.MethodPut, "users", map[string]any{"id": 1001, "group_id": 3, "passkey": pk, "can_download": true, "num_seeding": 0, "num_leeching": 0})
	ok(t, e, http.MethodPut, "users", map[string]any{"id": 1002, "group_id": 9, "passkey": pk2, "can_download": true, "num_seeding": 0, "num_leeching": 0})
	ok(t, e, http.MethodPut, "torrents", map[string]any{"id": 501, "status": 1, "info_hash": hex.EncodeToString(ih[:]), "is_deleted": false,
		"seeders": 0, "leechers": 0, "times_completed": 0, "download_factor": 100, "upload_factor": 100})
	e.Eventually("users and torrent at announce", func() bool { f, _, _ := ann(pk, 0, 0); return f == "" })
	if _, d, _ := ann(pk, 1000, 0); d != 1000 {
		t.Fatalf("credited download %d, want 1000", d)
	}

	// A personal freeleech: the event's credited download is 0.
	ok(t, e, http.MethodPut, "personal-freeleech", map[string]any{"user_id": 1001})
	down := uint64(1000)
	e.Eventually("personal freeleech", func() bool { down += 1000; _, d, _ := ann(pk, down, 0); return d == 0 })
	ok(t, e, http.MethodDelete, "personal-freeleech", map[string]any{"user_id": 1001})
	e.Eventually("personal freeleech removed", func() bool { down += 1000; _, d, _ := ann(pk, down, 0); return d == 1000 })

	// A freeleech token.
	ok(t, e, http.MethodPut, "freeleech-tokens", map[string]any{"user_id": 1001, "torrent_id": 501})
	e.Eventually("freeleech token", func() bool { down += 1000; _, d, _ := ann(pk, down, 0); return d == 0 })
	ok(t, e, http.MethodDelete, "freeleech-tokens", map[string]any{"user_id": 1001, "torrent_id": 501})

	// The group's factors: double upload for its members.
	ok(t, e, http.MethodPut, "groups", map[string]any{"id": 3, "slug": "user", "download_slots": nil, "is_immune": false, "is_freeleech": false, "is_double_upload": true})
	up := uint64(0)
	e.Eventually("group double upload", func() bool { up += 1000; _, _, u := ann(pk, down, up); return u == 2000 })

	// The group's download slots: with one, the member leeching 501 may
	// not start on 502 (UNIT3D-Announce's "Download slot limit reached");
	// 501 goes on; without a limit again (null), 502 is accepted.
	ih2 := ih
	ih2[19] = 8
	ok(t, e, http.MethodPut, "torrents", map[string]any{"id": 502, "status": 1, "info_hash": hex.EncodeToString(ih2[:]), "is_deleted": false,
		"seeders": 0, "leechers": 0, "times_completed": 0, "download_factor": 100, "upload_factor": 100})
	// ann2 leeches 502 and, when accepted, stops at once: an announce
	// answered before the group's slots reached the tracker must not keep
	// a session that holds a slot.
	ann2 := func() string {
		t.Helper()
		a := controltest.Announce{Path: "/announce/" + pk, InfoHash: ih2, Left: 1000}
		f, _ := e.Do(a)
		if f == "" {
			a.Event = "stopped"
			if _, ev := e.Do(a); ev.GetResult() != events.Result_RESULT_ACCEPTED {
				t.Fatal("stop on 502 refused")
			}
		}
		return f
	}
	ok(t, e, http.MethodPut, "groups", map[string]any{"id": 3, "slug": "user", "download_slots": 1, "is_immune": false, "is_freeleech": false, "is_double_upload": true})
	e.Eventually("download slots", func() bool { return ann2() == "Download slot limit reached" })
	if f, _, _ := ann(pk, down, up); f != "" {
		t.Fatalf("the leech session held refused: %q", f)
	}
	ok(t, e, http.MethodPut, "groups", map[string]any{"id": 3, "slug": "user", "download_slots": 0, "is_immune": false, "is_freeleech": false, "is_double_upload": true})
	if n := e.Count("SELECT count(*) FROM member_classes WHERE class = 'user' AND download_slots = 0"); n != 1 {
		t.Fatal("download_slots 0 not kept as 0 (seeding only)")
	}
	ok(t, e, http.MethodPut, "groups", map[string]any{"id": 3, "slug": "user", "download_slots": nil, "is_immune": false, "is_freeleech": false, "is_double_upload": true})
	e.Eventually("download slots lifted", func() bool { return ann2() == "" })

	// The member of group 9 follows its group once it is known.
	ok(t, e, http.MethodPut, "groups", map[string]any{"id": 9, "slug": "power-user", "download_slots": 0, "is_immune": true, "is_freeleech": true, "is_double_upload": false})
	if n := e.Count("SELECT count(*) FROM users WHERE site_id = 1002 AND class = 'power-user'"); n != 1 {
		t.Fatal("member of group 9 did not join class power-user")
	}

	// A featured torrent: freeleech and double upload for everyone.
	ok(t, e, http.MethodPut, "featured-torrents", map[string]any{"torrent_id": 501})
	e.Eventually("featured torrent", func() bool { down += 1000; up += 1000; _, d, u := ann(pk, down, up); return d == 0 && u == 2000 })
	ok(t, e, http.MethodDelete, "featured-torrents", map[string]any{"torrent_id": 501})

	// GET torrents/{id} and users/{id} as Unit3dAnnounce checks them.
	code, body := e.Get("/announce/" + apikey + "/torrents/501")
	var tor TorrentAnswer
	if err := json.Unmarshal([]byte(body), &tor); code != 200 || err != nil || tor.ID != 501 || tor.Status != "Approved" || tor.Leechers != 1 || len(tor.Peers) != 1 {
		t.Fatalf("GET torrents/501: %d %q", code, body)
	}
	for _, p := range tor.Peers {
		if p.UserID != 1001 || p.TorrentID != 501 || p.IsSeeder {
			t.Fatalf("peer %+v", p)
		}
	}
	code, body = e.Get("/announce/" + apikey + "/users/1001")
	var user UserAnswer
	if err := json.Unmarshal([]byte(body), &user); code != 200 || err != nil || user.GroupID != 3 || user.Passkey != pk || !user.CanDownload || user.NumLeeching != 1 {
		t.Fatalf("GET users/1001: %d %q", code, body)
	}
	code, body = e.Get("/announce/" + apikey + "/stats")
	var st map[string]float64
	if err := json.Unmarshal([]byte(body), &st); code != 200 || err != nil || st["created_at"] <= 0 || st["announce_responses_per_7200s"] <= 0 || len(st) != 13 {
		t.Fatalf("GET stats: %d %q", code, body)
	}

	// A new passkey is accepted and the old one refused.
	ok(t, e, http.MethodPut, "users", map[string]any{"id": 1001, "group_id": 3, "passkey": pk, "new_passkey": newPK, "can_download": true, "num_seeding": 0, "num_leeching": 1})
	e.Eventually("new_passkey", func() bool {
		fOld, _, _ := ann(pk, down, up)
		fNew, _, _ := ann(newPK, down, up)
		return strings.Contains(fOld, "unknown passkey") && fNew == ""
	})

	// can_download false, then a banned group.
	ok(t, e, http.MethodPut, "users", map[string]any{"id": 1001, "group_id": 3, "passkey": newPK, "can_download": false, "num_seeding": 0, "num_leeching": 1})
	e.Eventually("can_download false", func() bool { f, _, _ := ann(newPK, down, up); return strings.Contains(f, "leeching is disabled") })
	ok(t, e, http.MethodPut, "groups", map[string]any{"id": 4, "slug": "banned", "download_slots": nil, "is_immune": false, "is_freeleech": false, "is_double_upload": false})
	ok(t, e, http.MethodPut, "users", map[string]any{"id": 1001, "group_id": 4, "passkey": newPK, "can_download": true, "num_seeding": 0, "num_leeching": 1})
	e.Eventually("banned group", func() bool {
		f, _, _ := ann(newPK, down, up)
		return strings.Contains(f, "your group (banned) may not announce")
	})
	ok(t, e, http.MethodPut, "users", map[string]any{"id": 1001, "group_id": 3, "passkey": newPK, "can_download": true, "num_seeding": 0, "num_leeching": 1})
	e.Eventually("back in a normal group", func() bool { f, _, _ := ann(newPK, down, up); return f == "" })

	// A pending torrent, then a deleted one.
	ok(t, e, http.MethodPut, "torrents", map[string]any{"id": 501, "status": 0, "info_hash": hex.EncodeToString(ih[:]), "is_deleted": false,
		"seeders": 0, "leechers": 0, "times_completed": 0, "download_factor": 100, "upload_factor": 100})
	e.Eventually("pending torrent", func() bool { f, _, _ := ann(newPK, down, up); return f == "torrent is pending moderation" })
	ok(t, e, http.MethodDelete, "torrents", map[string]any{"id": 501, "info_hash": hex.EncodeToString(ih[:])})
	e.Eventually("deleted torrent", func() bool { f, _, _ := ann(newPK, down, up); return f == "unregistered torrent" })

	// Blacklisted agents.
	ok(t, e, http.MethodPut, "blacklisted-agents", map[string]any{"peer_id_prefix": "-XY"})
	if n := e.Count("SELECT count(*) FROM client_rules WHERE peer_id_prefix = '-XY' AND NOT allowed"); n != 1 {
		t.Fatal("blacklisted agent not added")
	}
	ok(t, e, http.MethodDelete, "blacklisted-agents", map[string]any{"name": "-XY"})
	if n := e.Count("SELECT count(*) FROM client_rules WHERE peer_id_prefix = '-XY'"); n != 0 {
		t.Fatal("blacklisted agent not removed")
	}

	// A removed member is refused and no longer shown.
	ok(t, e, http.MethodDelete, "users", map[string]any{"id": 1002, "passkey": pk2})
	if code, _ := e.Get("/announce/" + apikey + "/users/1002"); code != 404 {
		t.Fatalf("GET a removed member: %d", code)
	}
	ok(t, e, http.MethodDelete, "groups", map[string]any{"id": 9})
	if n := e.Count("SELECT count(*) FROM member_classes WHERE site_group_id = 9"); n != 0 {
		t.Fatal("group 9 not removed")
	}
}

// Bad input: a clear error, nothing changed.
func TestUnit3dBadInput(t *testing.T) {
	e := start(t)
	ok(t, e, http.MethodPut, "users", map[string]any{"id": 1, "group_id": 3, "passkey": "AbCdEfGhIjKlMnOpQrStUvWxYz012345", "can_download": true})
	before := e.Count("SELECT count(*) FROM audit_log")
	for _, tc := range []struct {
		method, path string
		body         string
		code         int
		msg          string
	}{
		{"PUT", "/announce/wrong-key/users", `{}`, 403, "authentication failure"},
		{"PUT", "/announce/" + apikey + "/users", `not json`, 400, "not a JSON object"},
		{"PUT", "/announce/" + apikey + "/users", `{"id": 2, "group_id": 3, "can_download": true}`, 400, "missing field passkey"},
		{"PUT", "/announce/" + apikey + "/users", `{"id": 2, "group_id": 3, "passkey": "short", "can_download": true}`, 400, "not 32 characters"},
		{"PUT", "/announce/" + apikey + "/users", `{"id": -2, "group_id": 3, "passkey": "AbCdEfGhIjKlMnOpQrStUvWxYz012346", "can_download": true}`, 400, "not a positive integer"},
		{"PUT", "/announce/" + apikey + "/users", `{"id": 2, "group_id": 3, "passkey": "AbCdEfGhIjKlMnOpQrStUvWxYz012345", "can_download": true}`, 409, "passkey already exists"},
		{"PUT", "/announce/" + apikey + "/users", `{"id": 2, "group_id": 3, "passkey": "AbCdEfGhIjKlMnOpQrStUvWxYz012346", "can_download": "maybe"}`, 400, "not a boolean"},
		{"PUT", "/announce/" + apikey + "/torrents", `{"id": 5, "status": 1, "info_hash": "abc", "download_factor": 100, "upload_factor": 100}`, 400, "not 40 hex digits"},
		{"PUT", "/announce/" + apikey + "/torrents", `{"id": 5, "status": 7, "info_hash": "` + strings.Repeat("ab", 20) + `", "download_factor": 100, "upload_factor": 100}`, 400, "status 7 is not"},
		{"PUT", "/announce/" + apikey + "/torrents", `{"id": 5, "status": 1, "info_hash": "` + strings.Repeat("ab", 20) + `", "download_factor": 150, "upload_factor": 100}`, 400, "download_factor 150"},
		{"PUT", "/announce/" + apikey + "/freeleech-tokens", `{"user_id": 1, "torrent_id": 77}`, 404, "torrent with site id 77"},
		{"PUT", "/announce/" + apikey + "/personal-freeleech", `{"user_id": 99}`, 404, "member with site id 99"},
		{"DELETE", "/announce/" + apikey + "/groups", `{"id": 12}`, 404, "group 12"},
		{"GET", "/announce/" + apikey + "/users/x", ``, 400, `id "x" is not a positive integer`},
		{"GET", "/announce/" + apikey + "/torrents/5", ``, 404, "not found"},
		{"PUT", "/announce/" + apikey + "/blacklisted-agents", `{}`, 400, "missing field peer_id_prefix"},
		{"DELETE", "/announce/" + apikey + "/blacklisted-agents", `{"peer_id_prefix": "-NO"}`, 404, `no client rule with prefix "-NO"`},
		{"PUT", "/announce/" + apikey + "/groups", `{"id": 3}`, 400, "missing field slug"},
		{"PUT", "/announce/" + apikey + "/groups", `{"id": 3, "slug": " spaced"}`, 400, "spaces around it"},
		{"PUT", "/announce/" + apikey + "/groups", `{"id": 3, "slug": "user", "download_slots": -1}`, 400, "download_slots -1 is negative"},
		{"PUT", "/announce/" + apikey + "/featured-torrents", `{}`, 400, "missing field torrent_id"},
		{"DELETE", "/announce/" + apikey + "/featured-torrents", `{"torrent_id": 8}`, 404, "torrent with site id 8"},
		{"DELETE", "/announce/" + apikey + "/personal-freeleech", `{"user_id": "x"}`, 400, "not a positive integer"},
		{"DELETE", "/announce/" + apikey + "/freeleech-tokens", `{"user_id": 1}`, 400, "missing field torrent_id"},
		{"DELETE", "/announce/" + apikey + "/torrents", `{"info_hash": "ab"}`, 400, "missing field id"},
		{"DELETE", "/announce/" + apikey + "/users", `{"id": 77}`, 404, "member with site id 77"},
		{"PUT", "/announce/" + apikey + "/torrents", `{"id": 5, "status": 1, "info_hash": "` + strings.Repeat("ab", 20) + `", "download_factor": 100}`, 400, "missing field upload_factor"},
		{"PUT", "/announce/" + apikey + "/users", strings.Repeat(" ", 70<<10), 400, "body over"},
	} {
		code, body := e.Send(tc.method, tc.path, "application/json", strings.NewReader(tc.body))
		if code != tc.code || !strings.Contains(body, tc.msg) {
			t.Errorf("%s %s %s: %d %q, want %d with %q", tc.method, tc.path, tc.body, code, body, tc.code, tc.msg)
		}
	}
	if after := e.Count("SELECT count(*) FROM audit_log"); after != before {
		t.Errorf("bad requests changed something: %d audit rows, was %d", after, before)
	}
	if n := e.Count("SELECT count(*) FROM users"); n != 1 {
		t.Errorf("%d members, want 1", n)
	}
}

func TestPromotionNames(t *testing.T) {
	for _, tc := range []struct {
		dl, up int
		name   string
	}{{100, 100, "none"}, {0, 100, "freeleech"}, {50, 200, "50% freeleech+2x upload"}, {75, 150, "25% freeleech+150% upload"}} {
		p, err := Promotion(tc.dl, tc.up)
		if err != nil || p.Name != tc.name || p.DownloadPercent != tc.dl || p.UploadPercent != tc.up {
			t.Errorf("%d/%d: %+v %v", tc.dl, tc.up, p, err)
		}
	}
	if _, err := Promotion(100, 50); err == nil {
		t.Error("upload factor 50 accepted")
	}
}

func TestRatesDecay(t *testing.T) {
	t0 := time.Unix(1000, 0)
	r := newRates(t0)
	r.snapshot(t0, 0)
	s := r.snapshot(t0.Add(time.Second), 10)
	if s["announce_responses_per_1s"] != 10 || s["announce_responses_per_7200s"] != 10 {
		t.Fatalf("after 10 announces: %v", s)
	}
	s = r.snapshot(t0.Add(11*time.Second), 10)
	if v := s["announce_responses_per_1s"]; v > 0.001 {
		t.Fatalf("1 s rate %v ten seconds later", v)
	}
	if v := s["announce_responses_per_7200s"]; v < 9.9 {
		t.Fatalf("2 h rate %v ten seconds later", v)
	}
	if redact("/announce/"+apikey+"/users") != "/announce/…/users" {
		t.Fatal("apikey not redacted")
	}
}
