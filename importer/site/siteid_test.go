package site

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/ratioguard/ratioguard/internal/testenv"
)

const (
	pkA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1"
	pkB = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa2"
	pkC = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa3"
	ihA = "0000000000000000000000000000000000000001"
	ihB = "0000000000000000000000000000000000000002"
)

func siteIDs(t *testing.T, pg testenv.PG, q string) map[string]int64 {
	t.Helper()
	rows, err := pg.Pool.Query(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var k string
		var v *int64
		if err := rows.Scan(&k, &v); err != nil {
			t.Fatal(err)
		}
		if v != nil {
			out[k] = *v
		}
	}
	return out
}

// A cutover keeps the site's ids: members and torrents carry them, a
// record without one keeps the row's, two records may trade theirs, and a
// re-import changes nothing.
func TestImportSiteIDs(t *testing.T) {
	pg := testenv.Postgres(t)
	doc := map[string][]map[string]any{
		"members": {
			{"name": "alice", "passkey": pkA, "class": "User", "site_id": 11},
			{"name": "bob", "passkey": pkB, "class": "User", "site_id": 12},
			{"name": "carol", "passkey": pkC, "class": "User"},
		},
		"torrents": {
			{"info_hash": ihA, "name": "a", "size": 10, "site_id": 501},
			{"info_hash": ihB, "name": "b", "size": 10},
		},
	}
	run(t, pg.Pool, load(t, doc))
	users := func() map[string]int64 { return siteIDs(t, pg, "SELECT name, site_id FROM users") }
	torrents := func() map[string]int64 {
		return siteIDs(t, pg, "SELECT encode(info_hash, 'hex'), site_id FROM torrents")
	}
	if u := users(); u["alice"] != 11 || u["bob"] != 12 || len(u) != 2 {
		t.Fatalf("members' site ids %v", u)
	}
	if tr := torrents(); tr[ihA] != 501 || len(tr) != 1 {
		t.Fatalf("torrents' site ids %v", tr)
	}
	s := run(t, pg.Pool, load(t, doc))
	if s.Members.Updated != 0 || s.Torrents.Updated != 0 {
		t.Fatalf("re-import changed %+v", s)
	}
	// alice and bob trade ids, carol gets one, torrent b gets one; a
	// record without site_id keeps its row's.
	doc["members"][0]["site_id"], doc["members"][1]["site_id"], doc["members"][2]["site_id"] = 12, 11, 13
	doc["torrents"][1]["site_id"] = 502
	delete(doc["torrents"][0], "site_id")
	s = run(t, pg.Pool, load(t, doc))
	if s.Members.Changed.SiteID != 3 || s.Torrents.Changed.SiteID != 1 {
		t.Fatalf("changed %+v / %+v", s.Members.Changed, s.Torrents.Changed)
	}
	if u := users(); u["alice"] != 12 || u["bob"] != 11 || u["carol"] != 13 {
		t.Fatalf("after the trade %v", u)
	}
	if tr := torrents(); tr[ihA] != 501 || tr[ihB] != 502 {
		t.Fatalf("torrents after %v", tr)
	}
}

// Site ids are checked: positive, unique in the file, not held by a row
// outside it; nothing is written otherwise.
func TestImportSiteIDProblems(t *testing.T) {
	for _, tc := range []struct {
		doc  string
		want string
	}{
		{`{"members": [{"name": "a", "passkey": "` + pkA + `", "class": "x", "site_id": 0}], "torrents": []}`, `members[0] "a": site_id: 0 is not a positive id`},
		{`{"members": [{"name": "a", "passkey": "` + pkA + `", "class": "x", "site_id": 5}, {"name": "b", "passkey": "` + pkB + `", "class": "x", "site_id": 5}], "torrents": []}`, "site_id: also the site_id of members[0]"},
		{`{"members": [], "torrents": [{"info_hash": "` + ihA + `", "name": "a", "size": 1, "site_id": 7}, {"info_hash": "` + ihB + `", "name": "b", "size": 1, "site_id": 7}]}`, "site_id: also the site_id of torrents[0]"},
		{`{"members": [{"name": "a", "passkey": "` + pkA + `", "class": "x", "site_id": "5"}], "torrents": []}`, "site_id"},
	} {
		_, err := Parse(strings.NewReader(tc.doc))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.doc, err, tc.want)
		}
	}
	pg := testenv.Postgres(t)
	run(t, pg.Pool, load(t, map[string][]map[string]any{
		"members":  {{"name": "outside", "passkey": pkC, "class": "x", "site_id": 9}},
		"torrents": {{"info_hash": ihB, "name": "b", "size": 1, "site_id": 90}},
	}))
	before := digest(t, pg.Pool)
	_, err := Import(context.Background(), pg.Pool, load(t, map[string][]map[string]any{
		"members":  {{"name": "a", "passkey": pkA, "class": "x", "site_id": 9}},
		"torrents": {{"info_hash": ihA, "name": "a", "size": 1, "site_id": 90}},
	}), Options{})
	var inv *InvalidError
	if !errors.As(err, &inv) || len(inv.Problems) != 2 ||
		!strings.Contains(err.Error(), `already the site id of member "outside"`) || !strings.Contains(err.Error(), "already the site id of torrent "+ihB) {
		t.Fatalf("import over held site ids: %v", err)
	}
	if after := digest(t, pg.Pool); after != before {
		t.Fatal("a refused import wrote something")
	}
}

// Gazelle's neutral leech imports as neutral (neither side counted).
func TestNeutralPromotion(t *testing.T) {
	for _, name := range []string{"neutral", "Neutral", " NEUTRAL "} {
		p, err := Promotion(name)
		if err != nil || p.Name != "neutral" || p.DownloadPercent != 0 || p.UploadPercent != 0 {
			t.Errorf("%q: %+v %v", name, p, err)
		}
	}
	if _, err := Promotion("neutral+2x"); err == nil {
		t.Error("neutral+2x accepted")
	}
}
