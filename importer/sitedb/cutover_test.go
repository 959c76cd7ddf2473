package sitedb

import (
	"context"
	"crypto/sha1"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"testing"

	"github.com/ratioguard/ratioguard/importer/site"
	"github.com/ratioguard/ratioguard/internal/testenv"
	"github.com/ratioguard/ratioguard/tracker/control/controltest"
)

// hash is a test torrent's info_hash.
func hash(n int) []byte {
	h := sha1.Sum([]byte(fmt.Sprint("torrent ", n)))
	return h[:]
}

// siteDB is a fresh MariaDB database with the site's tables: the
// write-back's (ingest/site/testdata/NAME.sql, when the site has one),
// then what the import reads besides (testdata/NAME.sql).
func siteDB(t testing.TB, name string) *sql.DB {
	t.Helper()
	m := testenv.MariaDB(t)
	for _, f := range []string{"../../ingest/site/testdata/" + name + ".sql", "testdata/" + name + ".sql"} {
		schema, err := os.ReadFile(f)
		if errors.Is(err, fs.ErrNotExist) && strings.HasPrefix(f, "../") {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		m.Exec(t, string(schema))
	}
	return m.DB
}

// exec runs statements on the site's database.
func exec(t *testing.T, db *sql.DB, stmts ...string) {
	t.Helper()
	for _, q := range stmts {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// cutover reads the site's database and imports it into the tracker's
// Postgres, then applies its control entries; it returns the summary with
// every change named by its row ("users_main ID 4 dave class User ->
// Power User"), then every control change.
func cutover(t *testing.T, e *controltest.Env, db *sql.DB, kind Kind, dryRun bool) (site.Summary, []string, ControlSummary) {
	t.Helper()
	ctx := context.Background()
	snap, err := Read(ctx, db, kind, nil)
	if err != nil {
		t.Fatal(err)
	}
	f, skipped, err := snap.File(false)
	if err != nil || len(skipped) > 0 {
		t.Fatalf("site records: %v (skipped %v)", err, skipped)
	}
	s, err := site.Import(ctx, e.PG.Pool, f, site.Options{DryRun: dryRun, Changes: true})
	if err != nil {
		t.Fatal(err)
	}
	var changes []string
	for _, c := range s.Changes {
		r, ok := snap.RowOf(c.Record)
		if !ok {
			t.Fatalf("no row for %s", c.Record)
		}
		changes = append(changes, strings.TrimSpace(fmt.Sprintf("%s %s %s %s -> %s", r, c.Name, c.Field, c.Old, c.New)))
	}
	cs, err := ApplyControl(ctx, e.Service, e.PG.Pool, snap, dryRun, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s, changes, cs
}

// accepted: the announce of passkey's path on torrent n is answered
// without a failure (within controltest.Within of the import).
func accepted(e *controltest.Env, path string, n int) func() bool {
	return func() bool {
		f, _ := e.Do(controltest.Announce{Path: path, InfoHash: [20]byte(hash(n)), Left: 1000, Event: "started"})
		return f == ""
	}
}

func refused(e *controltest.Env, path string, n int, want string) func() bool {
	return func() bool {
		f, _ := e.Do(controltest.Announce{Path: path, InfoHash: [20]byte(hash(n)), Left: 1000, Event: "started"})
		return strings.Contains(f, want)
	}
}

func sameList(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("%s:\n  got  %q\n  want %q", what, got, want)
	}
}

// query is one value from the tracker's Postgres.
func query[T any](t *testing.T, e *controltest.Env, q string, args ...any) T {
	t.Helper()
	var v T
	if err := e.PG.Pool.QueryRow(context.Background(), q, args...).Scan(&v); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return v
}

// TestGazelleCutover: a Gazelle database's members and torrents imported;
// the members' old passkeys announce on the tracker, a disabled and an
// unconfirmed member are refused; a second import changes nothing; a
// changed row is reported as exactly that change.
func TestGazelleCutover(t *testing.T) {
	db := siteDB(t, "gazelle")
	e := controltest.Start(t, nil)
	const pkAlice, pkBob, pkCarol, pkDave = "0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210",
		"00000000000000000000000000000ca1", "00000000000000000000000000000da7"
	exec(t, db,
		`INSERT INTO permissions (ID, Level, Name) VALUES (1, 100, 'User'), (2, 150, 'Power User'), (3, 1000, 'SysOp')`,
		`INSERT INTO users_main (ID, Username, Enabled, PermissionID, can_leech, torrent_pass, inviter_user_id, created) VALUES
			(1, 'alice', '1', 3, 1, '`+pkAlice+`', 0, '2019-05-01 10:00:00'),
			(2, 'bob', '1', 2, 1, '`+pkBob+`', 1, '2020-01-02 03:04:05'),
			(3, 'carol', '2', 1, 0, '`+pkCarol+`', 2, '2021-06-07 08:09:10'),
			(4, 'dave', '0', 1, 1, '`+pkDave+`', 2, '2022-01-01 00:00:00')`,
		`INSERT INTO torrents_group (ID, Name) VALUES (1, 'Album A'), (2, 'Album B')`,
		`INSERT INTO users_freeleeches (UserID, TorrentID, Time, Expired) VALUES (2, 1, NOW(), 0), (1, 1, NOW(), 1)`,
		`INSERT INTO xbt_client_whitelist (peer_id, vstring) VALUES ('-qB4', 'qBittorrent 4.x')`,
	)
	for i, free := range []string{"0", "1", "2"} {
		if _, err := db.Exec(`INSERT INTO torrents (ID, GroupID, UserID, info_hash, Size, FreeTorrent, created) VALUES (?, ?, ?, ?, ?, ?, '2023-03-03 03:03:03')`,
			i+1, 1+i/2, 2-i/2, hash(i+1), 1000*(i+1), free); err != nil {
			t.Fatal(err)
		}
	}
	s, changes, cs := cutover(t, e, db, Gazelle, false)
	if s.Members.Created != 4 || s.Torrents.Created != 3 || len(changes) != 7 {
		t.Fatalf("first import: %+v %+v, changes %q", s.Members, s.Torrents, changes)
	}
	sameList(t, "control changes", cs.Changes, []string{"users_main ID 3: may not leech",
		"users_freeleeches UserID 2 TorrentID 1: freeleech token", `xbt_client_whitelist id 1: client "-qB4" allowed`})
	if len(cs.Refused) > 0 {
		t.Fatalf("refused: %q", cs.Refused)
	}
	e.Eventually("bob's Gazelle passkey announcing", accepted(e, "/"+pkBob+"/announce", 1))
	e.Eventually("alice's on a freeleech torrent", accepted(e, "/"+pkAlice+"/announce", 2))
	if f, _ := e.Do(controltest.Announce{Path: "/" + pkBob + "/announce", InfoHash: [20]byte(hash(1)), PeerID: "-TR3000-controltest0", Left: 1}); f == "" {
		t.Error("a client not on Gazelle's whitelist accepted")
	}
	if f, _ := e.Do(controltest.Announce{Path: "/" + pkCarol + "/announce", InfoHash: [20]byte(hash(1)), Left: 1}); f == "" {
		t.Error("carol (Enabled '2', disabled) accepted")
	}
	if f, _ := e.Do(controltest.Announce{Path: "/" + pkDave + "/announce", InfoHash: [20]byte(hash(1)), Left: 1}); f == "" {
		t.Error("dave (Enabled '0', unconfirmed) accepted")
	}
	for q, want := range map[string]string{
		`SELECT string_agg(concat_ws(' ', name, class, enabled, can_leech, site_id, (SELECT name FROM users i WHERE i.id = u.invited_by)), ', ' ORDER BY site_id) FROM users u`:                                 "alice SysOp t t 1, bob Power User t t 2 alice, carol User f f 3 bob, dave User f t 4 bob",
		`SELECT string_agg(concat_ws(' ', u.name, t.site_id, f.expires_on_completion), ', ') FROM freeleech_tokens f JOIN users u ON u.id = f.user_id JOIN torrents t ON t.id = f.torrent_id`:                   "bob 1 t",
		`SELECT string_agg(concat_ws(' ', name, size, promotion, promo_download_percent, promo_upload_percent, site_id, (SELECT name FROM users WHERE id = uploader_id)), ', ' ORDER BY site_id) FROM torrents`: "Album A 1000 none 100 100 1 bob, Album A 2000 free 0 100 2 bob, Album B 3000 neutral 0 0 3 alice",
	} {
		if got := query[string](t, e, q); got != want {
			t.Errorf("%s:\n  got  %s\n  want %s", q, got, want)
		}
	}

	s, changes, cs = cutover(t, e, db, Gazelle, false)
	if s.Members.Unchanged != 4 || s.Torrents.Unchanged != 3 || len(changes) != 0 || len(cs.Changes) != 0 {
		t.Fatalf("second import: %+v %+v, changes %q %q", s.Members, s.Torrents, changes, cs.Changes)
	}
	exec(t, db, `UPDATE users_main SET PermissionID = 2 WHERE ID = 4`, `UPDATE torrents SET FreeTorrent = '1' WHERE ID = 1`)
	_, changes, cs = cutover(t, e, db, Gazelle, true)
	if len(cs.Changes) != 0 {
		t.Errorf("control changes after two edits of members and torrents: %q", cs.Changes)
	}
	sameList(t, "resync after two edits", changes, []string{
		"users_main ID 4 dave class User -> Power User",
		fmt.Sprintf("torrents ID 1 %x promotion none -> free", hash(1)),
	})
}

// TestUnit3dCutover: a UNIT3D database imported; mixed-case passkeys
// announce on /announce/{passkey}; a banned group's member and a
// soft-deleted member are refused; a pending and a soft-deleted torrent
// are not registered; free/doubleup map to the torrent's factors; a
// second import changes nothing; a changed row is exactly that change.
func TestUnit3dCutover(t *testing.T) {
	db := siteDB(t, "unit3d")
	e := controltest.Start(t, nil)
	const pkAlice, pkBob, pkEve, pkFrank = "AbCdEfGhIjKlMnOpQrStUvWxYz012345", "bObBoBbObBoBbObBoBbObBoBbObBoB01",
		"EveEveEveEveEveEveEveEveEveEve01", "FrankFrankFrankFrankFrankFrank01"
	exec(t, db,
		"INSERT INTO `groups` (id, name, slug, download_slots, is_double_upload) VALUES (1, 'User', 'user', NULL, 0), (2, 'Banned', 'banned', NULL, 0), (3, 'Power User', 'power-user', 2, 1)",
		`INSERT INTO freeleech_tokens (user_id, torrent_id) VALUES (2, 5)`,
		`INSERT INTO blacklist_clients (name, peer_id_prefix) VALUES ('Transmission', '-TR')`,
		`INSERT INTO personal_freeleeches (user_id) VALUES (1)`,
		`INSERT INTO users (id, username, passkey, group_id, can_download, created_at, deleted_at) VALUES
			(1, 'alice', '`+pkAlice+`', 3, 1, '2020-01-01 00:00:00', NULL),
			(2, 'bob', '`+pkBob+`', 1, 1, '2021-01-01 00:00:00', NULL),
			(3, 'eve', '`+pkEve+`', 2, 1, '2021-02-01 00:00:00', NULL),
			(4, 'frank', '`+pkFrank+`', 1, 1, '2021-03-01 00:00:00', '2024-01-01 00:00:00')`,
		`INSERT INTO invites (user_id, accepted_by) VALUES (1, 2), (2, 3), (1, NULL)`,
	)
	for _, r := range []struct {
		id, free, double, status int
		flUntil, deleted         string
	}{{1, 100, 0, 1, "'2030-01-01 00:00:00'", "NULL"}, {2, 50, 1, 1, "NULL", "NULL"}, {3, 0, 0, 0, "NULL", "NULL"},
		{4, 0, 0, 1, "NULL", "'2024-05-05 00:00:00'"}, {5, 0, 0, 1, "NULL", "NULL"}} {
		if _, err := db.Exec(`INSERT INTO torrents (id, name, size, user_id, free, doubleup, status, created_at, deleted_at, fl_until, info_hash)
			VALUES (?, ?, ?, 1, ?, ?, ?, '2023-01-01 00:00:00', `+r.deleted+`, `+r.flUntil+`, ?)`,
			r.id, fmt.Sprint("Movie ", r.id), 1e9+float64(r.id), r.free, r.double, r.status, hash(r.id)); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	snap, err := Read(ctx, db, Unit3d, nil)
	if err != nil {
		t.Fatal(err)
	}
	sameList(t, "left out", snap.LeftOut(), []string{"1 torrents not approved (status other than 1): not registered",
		"1 torrents soft-deleted (deleted_at set): not registered"})
	s, _, cs := cutover(t, e, db, Unit3d, false)
	if s.Members.Created != 4 || s.Torrents.Created != 3 {
		t.Fatalf("first import: %+v %+v", s.Members, s.Torrents)
	}
	sameList(t, "control changes", cs.Changes, []string{
		"users id 3: disabled (your group (banned) may not announce)",
		"groups id 1: class user (download 100%, upload 100%, immune false, download slots unlimited)",
		"groups id 2: class banned (download 100%, upload 100%, immune false, download slots unlimited)",
		"groups id 3: class power-user (download 100%, upload 200%, immune false, download slots 2)",
		"freeleech_tokens id 1: freeleech token",
		`blacklist_clients id 1: client "-TR" banned`,
		"users id 1: personal freeleech",
	})
	if len(cs.Refused) > 0 {
		t.Fatalf("refused: %q", cs.Refused)
	}
	e.Eventually("bob's UNIT3D passkey announcing", accepted(e, "/announce/"+pkBob, 1))
	e.Eventually("alice's", accepted(e, "/announce/"+pkAlice, 5))
	for _, pk := range []string{pkEve, pkFrank} {
		if f, _ := e.Do(controltest.Announce{Path: "/announce/" + pk, InfoHash: [20]byte(hash(1)), Left: 1}); f == "" {
			t.Errorf("passkey %s (banned group, soft-deleted) accepted", pk)
		}
	}
	e.Eventually("a pending torrent unregistered", refused(e, "/announce/"+pkBob, 3, "not registered"))
	want := "Movie 1 free 0 100 2030-01-01 00:00:00+00, Movie 2 50%+2x 50 200 , Movie 5 none 100 100 "
	if got := query[string](t, e, `SELECT string_agg(concat_ws(' ', name, promotion, promo_download_percent, promo_upload_percent, coalesce(promotion_until::text, '')), ', ' ORDER BY site_id) FROM torrents`); got != want {
		t.Errorf("torrents %q, want %q", got, want)
	}
	if got := query[string](t, e, `SELECT string_agg(concat_ws(' ', name, class, enabled, disabled_reason, (SELECT name FROM users i WHERE i.id = u.invited_by)), ', ' ORDER BY site_id) FROM users u`); got != "alice power-user t, bob user t alice, eve banned f your group (banned) may not announce bob, frank user f" {
		t.Errorf("members %q", got)
	}
	if f, _ := e.Do(controltest.Announce{Path: "/announce/" + pkBob, InfoHash: [20]byte(hash(5)), PeerID: "-TR3000-controltest0", Left: 1}); f == "" {
		t.Error("a client on UNIT3D's blacklist accepted")
	}

	s, changes, cs := cutover(t, e, db, Unit3d, false)
	if s.Members.Unchanged != 4 || s.Torrents.Unchanged != 3 || len(changes) != 0 || len(cs.Changes) != 0 {
		t.Fatalf("second import: %+v %+v, changes %q %q", s.Members, s.Torrents, changes, cs.Changes)
	}
	exec(t, db, `UPDATE torrents SET doubleup = 1 WHERE id = 5`, `UPDATE users SET passkey = 'NewNewNewNewNewNewNewNewNewNew01' WHERE id = 2`)
	_, changes, _ = cutover(t, e, db, Unit3d, false)
	sameList(t, "resync after two edits", changes, []string{
		"users id 2 bob passkey " + pkBob + " -> NewNewNewNewNewNewNewNewNewNew01",
		fmt.Sprintf("torrents id 5 %x promotion none -> 2x", hash(5)),
	})
	e.Eventually("bob's new passkey", accepted(e, "/announce/NewNewNewNewNewNewNewNewNewNew01", 5))
	e.Eventually("bob's old passkey refused", refused(e, "/announce/"+pkBob, 5, ""))
}

// TestNexusPHPCutover: class numbers named, report secrets imported,
// sp_state with its end, a banned torrent not registered; announce.php
// with the old passkey works.
func TestNexusPHPCutover(t *testing.T) {
	db := siteDB(t, "nexusphp")
	e := controltest.Start(t, nil)
	const pk = "0123456789abcdef0123456789abcdef"
	exec(t, db,
		`INSERT INTO users (id, username, status, added, class, enabled, passkey, invited_by, parked) VALUES
			(1, 'root', 'confirmed', '2015-01-01 00:00:00', 16, 'yes', 'ffffffffffffffffffffffffffffffff', 0, 'no'),
			(7, 'lin', 'confirmed', '2016-01-01 00:00:00', 9, 'yes', '`+pk+`', 1, 'no'),
			(8, 'parked', 'confirmed', '2016-01-01 00:00:00', 1, 'yes', 'eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee', 1, 'yes')`,
		`INSERT INTO torrent_secrets (uid, torrent_id, secret) VALUES (7, 0, 'kQ3vZ8TnYw1pLm2x')`,
		`UPDATE users SET uploaded = 8000000000, downloaded = 3000000000, seedtime = 500000, seedbonus = 4321.5 WHERE id = 7`,
		`INSERT INTO snatched (torrentid, userid, uploaded, downloaded, to_go, seedtime, last_action, completedat, finished) VALUES
			(1, 7, 900, 4096, 0, 72000, '2026-11-30 00:00:00', '2026-10-01 00:00:00', 'yes'),
			(2, 7, 0, 100, 3996, 0, '2026-12-01 00:00:00', NULL, 'no')`,
		`INSERT INTO peers (torrent, peer_id, ip, port, uploaded, downloaded, to_go, last_action, userid) VALUES
			(2, '-TR3000-abcdefghijkl', '2001:db8::7', 6881, 10, 100, 3996, '2026-12-01 00:00:00', 7)`,
	)
	for _, r := range []struct {
		id, state, timeType int
		banned              string
	}{{1, 4, 2, "no"}, {2, 7, 0, "no"}, {3, 1, 0, "yes"}} {
		if _, err := db.Exec(`INSERT INTO torrents (id, info_hash, name, size, added, banned, owner, sp_state, promotion_time_type, promotion_until)
			VALUES (?, ?, ?, 4096, '2020-02-02 00:00:00', ?, 7, ?, ?, '2031-01-01 00:00:00')`, r.id, hash(r.id), fmt.Sprint("Show ", r.id), r.banned, r.state, r.timeType); err != nil {
			t.Fatal(err)
		}
	}
	s, _, _ := cutover(t, e, db, NexusPHP, false)
	if s.Members.Created != 3 || s.Torrents.Created != 2 || s.Secrets.Set != 1 {
		t.Fatalf("first import: %+v %+v %+v", s.Members, s.Torrents, s.Secrets)
	}
	e.Eventually("lin's NexusPHP passkey", accepted(e, "/announce.php?passkey="+pk, 1))
	if h := s.History; h.Openings != 3 || h.Snatches != 1 || h.Peers != 1 {
		t.Errorf("history: %+v, want 3 openings, lin's snatch and peer", h)
	}
	for q, want := range map[string]string{
		`SELECT string_agg(concat_ws(' ', u.name, h.opening_uploaded, h.opening_downloaded, h.opening_seedtime, h.opening_bonus), ', ' ORDER BY u.site_id) FROM ledger_site_history h JOIN users u ON u.id = h.user_id`:                                  "root 0 0 0 0.0000, lin 8000000000 3000000000 500000 4321.5000, parked 0 0 0 0.0000",
		`SELECT string_agg(concat_ws(' ', u.name, t.site_id, s.completed_at, s.seedtime_seconds, s.last_seeded_at, s.uploaded, s.downloaded), ', ') FROM ledger_site_snatches s JOIN users u ON u.id = s.user_id JOIN torrents t ON t.id = s.torrent_id`: "lin 1 2026-10-01 00:00:00+00 72000 2026-11-30 00:00:00+00 900 4096",
		`SELECT string_agg(concat_ws(' ', u.name, t.site_id, host(p.ip), p.port, p.uploaded, p.downloaded, p.left_bytes, p.announced_at), ', ') FROM site_peers p JOIN users u ON u.id = p.user_id JOIN torrents t ON t.id = p.torrent_id`:               "lin 2 2001:db8::7 6881 10 100 3996 2026-12-01 00:00:00+00",
	} {
		if got := query[string](t, e, q); got != want {
			t.Errorf("%s:\n  got  %s\n  want %s", q, got, want)
		}
	}
	want := "Show 1 free+2x 0 200 2031-01-01 00:00:00+00, Show 2 30% 30 100 "
	if got := query[string](t, e, `SELECT string_agg(concat_ws(' ', name, promotion, promo_download_percent, promo_upload_percent, coalesce(promotion_until::text, '')), ', ' ORDER BY site_id) FROM torrents`); got != want {
		t.Errorf("torrents %q, want %q", got, want)
	}
	if got := query[string](t, e, `SELECT string_agg(concat_ws(' ', name, class, enabled), ', ' ORDER BY site_id) FROM users`); got != "root Staff Leader t, lin Nexus Master t, parked User f" {
		t.Errorf("members %q", got)
	}
	if s, changes, _ := cutover(t, e, db, NexusPHP, false); s.Members.Unchanged != 3 || s.Torrents.Unchanged != 2 || len(changes) != 0 {
		t.Fatalf("second import: %+v %+v, changes %q", s.Members, s.Torrents, changes)
	}
}

// TestBadRows: rows the site file's checks refuse are named by table and
// id, and nothing is imported; with skipInvalid they are left out and
// listed, and a member they invited is invited by nobody.
func TestBadRows(t *testing.T) {
	snap := &Snapshot{Kind: Gazelle,
		Members: []Member{
			{Row: Row{"users_main", "ID", 1}, Name: "alice", Passkey: "0123456789abcdef0123456789abcdef", Class: "User", Enabled: true},
			{Row: Row{"users_main", "ID", 5}, Name: "eve", Passkey: "short", Class: "User", Enabled: true, Inviter: 1},
			{Row: Row{"users_main", "ID", 6}, Name: "fay", Passkey: "fedcba9876543210fedcba9876543210", Class: "User", Inviter: 5},
		},
		Torrents: []Torrent{
			{Row: Row{"torrents", "ID", 10}, InfoHash: hash(1), Name: "a", Size: 1, Promo: "none", Uploader: 5},
			{Row: Row{"torrents", "ID", 11}, InfoHash: hash(1), Name: "b", Size: 1, Promo: "none"},
		}}
	_, _, err := snap.File(false)
	var inv *InvalidError
	if !errors.As(err, &inv) {
		t.Fatalf("File: %v, want an *InvalidError", err)
	}
	var got []string
	for _, p := range inv.Problems {
		got = append(got, p.String())
	}
	sameList(t, "problems", got, []string{
		`users_main ID 5 "eve": passkey: "short" is not 32 characters of [0-9A-Za-z]`,
		fmt.Sprintf(`torrents ID 11 "%x": info_hash: also the info_hash of torrents ID 10`, hash(1)),
	})
	f, skipped, err := snap.File(true)
	if err != nil || len(skipped) != 2 || len(f.Members) != 2 || len(f.Torrents) != 1 {
		t.Fatalf("skip invalid: %v, skipped %v, file %+v", err, skipped, f)
	}
	if m := f.Members[1]; m.Name != "fay" || m.InvitedBy == nil || *m.InvitedBy != "" {
		t.Errorf("fay, invited by eve who is left out: %+v", m)
	}
	if u := f.Torrents[0].Uploader; u == nil || *u != "" {
		t.Errorf("torrent uploaded by eve who is left out: uploader %v", u)
	}
	if r, ok := snap.RowOf("torrents[0]"); !ok || r.ID != 10 {
		t.Errorf("RowOf(torrents[0]) = %v %v", r, ok)
	}
}

// TestUnit3dHistory: members' lifetime totals, seedtime and bonus become
// their opening balances, completed history rows their site snatches, and
// active peers the old tracker's peers with their last counters; a second
// import writes none of them again.
func TestUnit3dHistory(t *testing.T) {
	db := siteDB(t, "unit3d")
	e := controltest.Start(t, nil)
	exec(t, db,
		"INSERT INTO `groups` (id, name, slug) VALUES (1, 'User', 'user')",
		`INSERT INTO users (id, username, passkey, group_id, uploaded, downloaded, seedbonus, created_at) VALUES
			(1, 'alice', 'AbCdEfGhIjKlMnOpQrStUvWxYz012345', 1, 5000000000, 1000000000, 1234.50, '2020-01-01 00:00:00'),
			(2, 'bob', 'bObBoBbObBoBbObBoBbObBoBbObBoB01', 1, 0, 0, 0, '2021-01-01 00:00:00')`,
	)
	for id := 1; id <= 2; id++ {
		if _, err := db.Exec(`INSERT INTO torrents (id, name, size, user_id, status, created_at, info_hash) VALUES (?, ?, 1000, 1, 1, '2023-01-01 00:00:00', ?)`,
			id, fmt.Sprint("Movie ", id), hash(id)); err != nil {
			t.Fatal(err)
		}
	}
	exec(t, db,
		`INSERT INTO history (user_id, torrent_id, agent, uploaded, client_uploaded, downloaded, client_downloaded, seeder, active, seedtime, immune, updated_at, completed_at) VALUES
			(1, 1, 'qBittorrent', 300, 300, 1000, 1000, 1, 1, 90000, 0, '2026-11-30 12:00:00', '2026-11-01 10:00:00'),
			(1, 2, 'qBittorrent', 0, 0, 200, 200, 0, 1, 600, 0, '2026-11-29 12:00:00', NULL)`,
		"INSERT INTO peers (peer_id, ip, port, agent, uploaded, downloaded, `left`, seeder, updated_at, torrent_id, user_id, active, visible) VALUES "+
			"('-qB4650-abcdefghijkl', UNHEX('C0A80107'), 51413, 'qBittorrent', 300, 1000, 0, 1, '2026-12-01 00:00:00', 1, 1, 1, 1), "+
			"('-qB4650-mnopqrstuvwx', UNHEX('C0A80107'), 51413, 'qBittorrent', 0, 200, 800, 0, '2026-12-01 00:00:00', 2, 1, 0, 1)",
	)
	s, _, _ := cutover(t, e, db, Unit3d, false)
	h := s.History
	if h.Openings != 2 || h.OpeningsWritten != 2 || h.Snatches != 1 || h.SnatchesWritten != 1 || h.Peers != 1 || h.PeersWritten != 1 {
		t.Fatalf("first import: %+v", h)
	}
	for q, want := range map[string]string{
		`SELECT string_agg(concat_ws(' ', u.name, h.opening_uploaded, h.opening_downloaded, h.opening_seedtime, h.opening_bonus), ', ' ORDER BY u.site_id) FROM ledger_site_history h JOIN users u ON u.id = h.user_id`:                                                     "alice 5000000000 1000000000 90600 1234.5000, bob 0 0 0 0.0000",
		`SELECT string_agg(concat_ws(' ', u.name, t.site_id, s.completed_at, s.seedtime_seconds, s.last_seeded_at, s.uploaded, s.downloaded), ', ') FROM ledger_site_snatches s JOIN users u ON u.id = s.user_id JOIN torrents t ON t.id = s.torrent_id`:                    "alice 1 2026-11-01 10:00:00+00 90000 2026-11-30 12:00:00+00 300 1000",
		`SELECT string_agg(concat_ws(' ', u.name, t.site_id, convert_from(p.peer_id, 'UTF8'), host(p.ip), p.port, p.uploaded, p.downloaded, p.left_bytes, p.announced_at), ', ') FROM site_peers p JOIN users u ON u.id = p.user_id JOIN torrents t ON t.id = p.torrent_id`: "alice 1 -qB4650-abcdefghijkl 192.168.1.7 51413 300 1000 0 2026-12-01 00:00:00+00",
	} {
		if got := query[string](t, e, q); got != want {
			t.Errorf("%s:\n  got  %s\n  want %s", q, got, want)
		}
	}
	s, _, _ = cutover(t, e, db, Unit3d, false)
	if h := s.History; h.OpeningsWritten+h.OpeningsRevised+h.SnatchesWritten+h.SnatchesRemoved+h.PeersWritten+h.PeersRemoved != 0 {
		t.Fatalf("second import wrote history again: %+v", h)
	}
}

// TestGazelleHistory: users_leech_stats with the members' seeding time
// (xbt_files_users.timespent) and user_bonus become opening balances;
// xbt_snatched with the member's xbt_files_users rows of the torrent site
// snatches; active xbt_files_users rows the old tracker's peers with port
// 0 (Ocelot keeps none; one without an IPv4 address is left out); a second
// import writes none of them again.
func TestGazelleHistory(t *testing.T) {
	db := siteDB(t, "gazelle")
	e := controltest.Start(t, nil)
	exec(t, db,
		`INSERT INTO permissions (ID, Level, Name) VALUES (1, 100, 'User')`,
		`INSERT INTO users_main (ID, Username, Enabled, PermissionID, torrent_pass, created) VALUES
			(1, 'alice', '1', 1, '0123456789abcdef0123456789abcdef', '2019-05-01 10:00:00'),
			(2, 'bob', '1', 1, 'fedcba9876543210fedcba9876543210', '2020-01-02 03:04:05')`,
		`INSERT INTO users_leech_stats (UserID, Uploaded, Downloaded) VALUES (1, 7000000000, 2000000000), (2, 0, 0)`,
		`INSERT INTO user_bonus (user_id, points) VALUES (1, 99.5)`,
		`INSERT INTO torrents_group (ID, Name) VALUES (1, 'Album')`,
	)
	if _, err := db.Exec(`INSERT INTO torrents (ID, GroupID, UserID, info_hash, Size) VALUES (1, 1, 1, ?, 1000)`, hash(1)); err != nil {
		t.Fatal(err)
	}
	exec(t, db,
		`INSERT INTO xbt_files_users (uid, fid, active, downloaded, remaining, uploaded, timespent, peer_id, mtime, ip) VALUES
			(1, 1, 0, 1000, 0, 400, 36000, '-qB4650-abcdefghijkl', 1764500000, '10.0.0.1'),
			(1, 1, 0, 0, 0, 100, 3600, '-qB4650-mnopqrstuvwx', 1764600000, '10.0.0.1'),
			(2, 1, 1, 250, 750, 30, 1800, '-TR4050-bobbobbobbob', 1764700000, '10.0.0.2'),
			(2, 1, 1, 0, 1000, 0, 60, '-TR4050-bob6bob6bob6', 1764700000, '')`,
		`INSERT INTO xbt_snatched (uid, tstamp, fid, IP) VALUES (1, 1764000000, 1, '10.0.0.1'), (1, 1764100000, 1, '10.0.0.1')`,
	)
	snap, err := Read(context.Background(), db, Gazelle, nil)
	if err != nil {
		t.Fatal(err)
	}
	sameList(t, "left out", snap.LeftOut(), []string{"1 peers without an address, peer_id or time, or with a port out of range: not imported"})
	s, _, _ := cutover(t, e, db, Gazelle, false)
	if h := s.History; h.Openings != 2 || h.OpeningsWritten != 2 || h.Snatches != 1 || h.SnatchesWritten != 1 || h.Peers != 1 || h.PeersWritten != 1 {
		t.Fatalf("first import: %+v", h)
	}
	for q, want := range map[string]string{
		`SELECT string_agg(concat_ws(' ', u.name, h.opening_uploaded, h.opening_downloaded, h.opening_seedtime, h.opening_bonus), ', ' ORDER BY u.site_id) FROM ledger_site_history h JOIN users u ON u.id = h.user_id`:                                                                                          "alice 7000000000 2000000000 39600 99.5000, bob 0 0 1860 0.0000",
		`SELECT string_agg(concat_ws(' ', u.name, t.site_id, extract(epoch FROM s.completed_at)::bigint, s.seedtime_seconds, extract(epoch FROM s.last_seeded_at)::bigint, s.uploaded, s.downloaded), ', ') FROM ledger_site_snatches s JOIN users u ON u.id = s.user_id JOIN torrents t ON t.id = s.torrent_id`: "alice 1 1764000000 39600 1764600000 500 1000",
		`SELECT string_agg(concat_ws(' ', u.name, t.site_id, convert_from(p.peer_id, 'UTF8'), host(p.ip), p.port, p.uploaded, p.downloaded, p.left_bytes, extract(epoch FROM p.announced_at)::bigint), ', ') FROM site_peers p JOIN users u ON u.id = p.user_id JOIN torrents t ON t.id = p.torrent_id`:          "bob 1 -TR4050-bobbobbobbob 10.0.0.2 0 30 250 750 1764700000",
	} {
		if got := query[string](t, e, q); got != want {
			t.Errorf("%s:\n  got  %s\n  want %s", q, got, want)
		}
	}
	s, _, _ = cutover(t, e, db, Gazelle, false)
	if h := s.History; h.OpeningsWritten+h.OpeningsRevised+h.SnatchesWritten+h.SnatchesRemoved+h.PeersWritten+h.PeersRemoved != 0 {
		t.Fatalf("second import wrote history again: %+v", h)
	}
}
