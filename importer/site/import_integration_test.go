package site

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ratioguard/ratioguard/internal/testenv"
	"github.com/ratioguard/ratioguard/tracker/policy"
)

// load parses a site file given as a Go value.
func load(t *testing.T, doc any) *File {
	t.Helper()
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	f, err := Parse(strings.NewReader(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// testdata reads testdata/site.json as a Go value to edit.
func testdata(t *testing.T) map[string][]map[string]any {
	t.Helper()
	b, err := os.ReadFile("testdata/site.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string][]map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

func run(t *testing.T, pool *pgxpool.Pool, f *File) Summary {
	t.Helper()
	s, err := Import(context.Background(), pool, f, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// digest is every column an import may write, so "changed nothing" means
// nothing (updated_at included).
func digest(t *testing.T, pool *pgxpool.Pool) string {
	t.Helper()
	var d string
	err := pool.QueryRow(context.Background(), `SELECT md5(
		(SELECT coalesce(string_agg(concat_ws('|', id, name, passkey, class, enabled, invited_by, created_at, updated_at), ',' ORDER BY id), '') FROM users) ||
		(SELECT coalesce(string_agg(concat_ws('|', id, info_hash, name, size, promotion, promo_download_percent, promo_upload_percent,
			promotion_until, created_at, updated_at, uploader_id), ',' ORDER BY id), '') FROM torrents) ||
		(SELECT coalesce(string_agg(concat_ws('|', id, user_id, cidr), ',' ORDER BY id), '') FROM seedbox_ranges))`).Scan(&d)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

type userRow struct {
	Passkey, Class string
	Enabled        bool
	Inviter        string
	Created        time.Time
	Seedboxes      string
}

func user(t *testing.T, pool *pgxpool.Pool, name string) userRow {
	t.Helper()
	var u userRow
	err := pool.QueryRow(context.Background(), `SELECT u.passkey, u.class, u.enabled, coalesce(i.name, ''), u.created_at,
			coalesce((SELECT string_agg(cidr::text, ' ' ORDER BY cidr) FROM seedbox_ranges s WHERE s.user_id = u.id), '')
		FROM users u LEFT JOIN users i ON i.id = u.invited_by WHERE u.name = $1`, name).
		Scan(&u.Passkey, &u.Class, &u.Enabled, &u.Inviter, &u.Created, &u.Seedboxes)
	if err != nil {
		t.Fatalf("member %s: %v", name, err)
	}
	return u
}

type torrentRow struct {
	Name, Promo string
	Size        int64
	DL, UP      int
	Until       *time.Time
	Created     time.Time
	Uploader    string
}

func torrent(t *testing.T, pool *pgxpool.Pool, infoHash string) torrentRow {
	t.Helper()
	ih, _ := hex.DecodeString(infoHash)
	var r torrentRow
	err := pool.QueryRow(context.Background(), `SELECT t.name, t.promotion, t.size, t.promo_download_percent, t.promo_upload_percent,
			t.promotion_until, t.created_at, coalesce(u.name, '')
		FROM torrents t LEFT JOIN users u ON u.id = t.uploader_id WHERE t.info_hash = $1`, ih).
		Scan(&r.Name, &r.Promo, &r.Size, &r.DL, &r.UP, &r.Until, &r.Created, &r.Uploader)
	if err != nil {
		t.Fatalf("torrent %s: %v", infoHash, err)
	}
	return r
}

// notifications counts what the policy triggers send while fn runs.
func notifications(t *testing.T, pool *pgxpool.Pool, fn func()) int {
	t.Helper()
	ctx := context.Background()
	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "LISTEN ratioguard_policy"); err != nil {
		t.Fatal(err)
	}
	defer conn.Exec(ctx, "UNLISTEN *") //nolint:errcheck // the connection goes back to the pool
	fn()
	n := 0
	for {
		wctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		_, err := conn.Conn().WaitForNotification(wctx)
		cancel()
		if err != nil {
			return n
		}
		n++
	}
}

func TestImportFreshThenIdempotent(t *testing.T) {
	pg := testenv.Postgres(t)
	f, err := ReadFile("testdata/site.json")
	if err != nil {
		t.Fatal(err)
	}
	var s Summary
	fired := notifications(t, pg.Pool, func() { s = run(t, pg.Pool, f) })
	if s.Members.Created != 4 || s.Members.Updated != 0 || s.Torrents.Created != 7 ||
		s.Seedboxes != (SeedboxCounts{Members: 3, Declaring: 1, Changed: 1, Set: 3, Added: 3}) {
		t.Fatalf("fresh import: %+v", s)
	}
	// 4 members + 3 invites + 7 torrents + 3 seedbox ranges.
	if fired != 17 {
		t.Errorf("fresh import fired %d notifications, want 17", fired)
	}

	alice, bob, carol, dave := user(t, pg.Pool, "alice"), user(t, pg.Pool, "bob"), user(t, pg.Pool, "carol"), user(t, pg.Pool, "dave")
	if alice.Class != "SysOp" || alice.Inviter != "" || !alice.Enabled {
		t.Errorf("alice %+v", alice)
	}
	if bob.Passkey != "abcdefghijklmnopqrstuvwxyz012345" || bob.Inviter != "carol" || bob.Class != "Power User" ||
		bob.Seedboxes != "198.51.100.0/24 203.0.113.7/32 2001:db8:1:2::/64" {
		t.Errorf("bob (invited by carol, defined after him) %+v", bob)
	}
	if carol.Passkey != "AbCdEfGhIjKlMnOpQrStUvWxYz012345" || carol.Inviter != "alice" || !carol.Created.Equal(time.Unix(1700000000, 0)) {
		t.Errorf("carol %+v", carol)
	}
	if dave.Enabled || dave.Inviter != "bob" {
		t.Errorf("dave %+v", dave)
	}
	storm := torrent(t, pg.Pool, "f8c154180acca5cdad774be8f926842593880c70")
	if storm.Promo != "free" || storm.DL != 0 || storm.UP != 100 || storm.Size != 7533877519 || storm.Uploader != "carol" ||
		!storm.Created.Equal(time.Unix(1790182154, 0)) {
		t.Errorf("storm %+v", storm)
	}
	for ih, want := range map[string][3]any{
		"00112233445566778899aabbccddeeff00112233": {"50%", 50, 100},
		"0000000000000000000000000000000000000003": {"free+2x", 0, 200},
		"0000000000000000000000000000000000000004": {"30%", 30, 100},
		"0000000000000000000000000000000000000005": {"2x", 100, 200},
		"0000000000000000000000000000000000000006": {"none", 100, 100},
		"0000000000000000000000000000000000000007": {"none", 100, 100},
	} {
		if r := torrent(t, pg.Pool, ih); r.Promo != want[0] || r.DL != want[1] || r.UP != want[2] {
			t.Errorf("torrent %s: %+v, want %v", ih, r, want)
		}
	}
	if u := torrent(t, pg.Pool, "0000000000000000000000000000000000000003").Until; u == nil || !u.Equal(time.Unix(1900000000, 0)) {
		t.Errorf("promotion_until %v", u)
	}

	// The same file again: everything unchanged, nothing written, no NOTIFY.
	before := digest(t, pg.Pool)
	fired = notifications(t, pg.Pool, func() { s = run(t, pg.Pool, f) })
	if s.Members != (MemberCounts{Unchanged: 4}) || s.Torrents != (TorrentCounts{Unchanged: 7}) ||
		s.Seedboxes != (SeedboxCounts{Members: 3, Declaring: 1, Set: 3}) {
		t.Errorf("re-import: %+v", s)
	}
	if fired != 0 {
		t.Errorf("re-import fired %d notifications", fired)
	}
	if digest(t, pg.Pool) != before {
		t.Error("re-import changed the database")
	}
}

func TestImportUpdates(t *testing.T) {
	pg := testenv.Postgres(t)
	ctx := context.Background()
	doc := testdata(t)
	run(t, pg.Pool, load(t, doc))

	// A running tracker's policy cache, kept current by NOTIFY.
	cache := policy.NewCache()
	syncer := policy.NewSyncer(pg.Pool, cache, policy.SyncConfig{Resync: time.Hour}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	go func() { _ = syncer.Run(sctx) }()
	waitFor(t, "tracker load", func() bool { return syncer.Ready() == nil })

	m, tr := doc["members"], doc["torrents"]
	m[0]["class"] = "Administrator"                                     // alice
	m[1]["passkey"] = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"                // bob
	m[1]["seedbox_cidrs"] = []string{"203.0.113.7", "192.0.2.0/24"}     // one kept, one dropped, one added
	m[2]["passkey"], m[3]["passkey"] = m[3]["passkey"], m[2]["passkey"] // carol and dave trade passkeys
	m[2]["invited_by"] = ""                                             // carol: invited by nobody now
	delete(m[3], "enabled")                                             // dave: stays disabled
	tr[1]["promo"] = "free2x"
	tr[2]["size"] = 2000
	delete(tr[3], "promo") // keeps 30%
	tr[4]["uploader"] = "alice"
	before := user(t, pg.Pool, "alice")
	s := run(t, pg.Pool, load(t, doc))
	want := MemberCounts{Updated: 4, Changed: MemberFields{Passkey: 3, Class: 1, InvitedBy: 1}}
	if s.Members != want {
		t.Errorf("members %+v, want %+v", s.Members, want)
	}
	if want := (TorrentCounts{Updated: 3, Unchanged: 4, Changed: TorrentFields{Promotion: 1, Size: 1, Uploader: 1}}); s.Torrents != want {
		t.Errorf("torrents %+v, want %+v", s.Torrents, want)
	}
	if want := (SeedboxCounts{Members: 3, Declaring: 1, Changed: 1, Set: 2, Added: 1, Removed: 2}); s.Seedboxes != want {
		t.Errorf("seedboxes %+v, want %+v", s.Seedboxes, want)
	}
	alice, bob, carol, dave := user(t, pg.Pool, "alice"), user(t, pg.Pool, "bob"), user(t, pg.Pool, "carol"), user(t, pg.Pool, "dave")
	if alice.Class != "Administrator" || !alice.Created.Equal(before.Created) {
		t.Errorf("alice %+v", alice)
	}
	if bob.Passkey != "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb" || bob.Seedboxes != "192.0.2.0/24 203.0.113.7/32" {
		t.Errorf("bob %+v", bob)
	}
	if carol.Passkey != "ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ" || carol.Inviter != "" || dave.Passkey != "AbCdEfGhIjKlMnOpQrStUvWxYz012345" || dave.Enabled {
		t.Errorf("carol %+v dave %+v", carol, dave)
	}
	if r := torrent(t, pg.Pool, "00112233445566778899aabbccddeeff00112233"); r.Promo != "free+2x" || r.DL != 0 || r.UP != 200 {
		t.Errorf("promotion: %+v", r)
	}
	if r := torrent(t, pg.Pool, "0000000000000000000000000000000000000004"); r.Promo != "30%" {
		t.Errorf("a record without promo changed the promotion: %+v", r)
	}
	if r := torrent(t, pg.Pool, "0000000000000000000000000000000000000005"); r.Uploader != "alice" {
		t.Errorf("uploader: %+v", r)
	}

	// The tracker learned it all by NOTIFY, traded passkeys included.
	waitFor(t, "tracker sees the new passkeys", func() bool {
		b, c, d := cache.UserByPasskey("bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"), cache.UserByPasskey("ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ"), cache.UserByPasskey("AbCdEfGhIjKlMnOpQrStUvWxYz012345")
		return b != nil && c != nil && c.Enabled && d != nil && !d.Enabled && cache.UserByPasskey("abcdefghijklmnopqrstuvwxyz012345") == nil
	})
	ih, _ := hex.DecodeString("00112233445566778899aabbccddeeff00112233")
	waitFor(t, "tracker sees the promotion", func() bool {
		tor := cache.TorrentByInfoHash([20]byte(ih))
		return tor != nil && tor.Promotion.Name == "free+2x" && tor.Promotion.UploadPercent == 200
	})

	// And again: unchanged.
	if s := run(t, pg.Pool, load(t, doc)); s.Members != (MemberCounts{Unchanged: 4}) || s.Torrents != (TorrentCounts{Unchanged: 7}) {
		t.Errorf("re-import after the update: %+v", s)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 5 s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A file with any invalid record writes nothing and says which record and
// field; so does one that refers to members ratioguard does not know or
// takes a passkey a member outside the file holds.
func TestImportInvalidLeavesDatabaseUntouched(t *testing.T) {
	pg := testenv.Postgres(t)
	ctx := context.Background()
	run(t, pg.Pool, load(t, testdata(t)))
	if _, err := pg.Pool.Exec(ctx, `INSERT INTO users (name, passkey, class) VALUES ('outsider', 'oooooooooooooooooooooooooooooooo', 'User')`); err != nil {
		t.Fatal(err)
	}
	before := digest(t, pg.Pool)
	// edit returns the test file with a valid change that must not land and
	// fn's change.
	edit := func(fn func(m, tr []map[string]any)) []byte {
		doc := testdata(t)
		doc["members"][0]["class"] = "Changed"
		doc["torrents"][0]["promo"] = "2x"
		fn(doc["members"], doc["torrents"])
		b, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, c := range []struct {
		name string
		file []byte
		want string
	}{
		{"bad passkey", edit(func(m, _ []map[string]any) { m[1]["passkey"] = "abcdefghijklmnopqrstuvwxyz01234!" }),
			`members[1] "bob": passkey: "abcdefghijklmnopqrstuvwxyz01234!" is not 32 characters of [0-9A-Za-z]`},
		{"duplicate name", edit(func(m, _ []map[string]any) { m[3]["name"] = "alice" }),
			`members[3] "alice": name: also the name of members[0]`},
		{"bad CIDR", edit(func(m, _ []map[string]any) { m[1]["seedbox_cidrs"] = []string{"300.1.2.3/32"} }),
			`members[1] "bob": seedbox_cidrs[0]: "300.1.2.3/32" is not a CIDR range or an address`},
		{"bad info_hash", edit(func(_, tr []map[string]any) { tr[2]["info_hash"] = "zz" }),
			`torrents[2] "zz": info_hash: "zz" is not 40 hexadecimal digits`},
		{"unknown inviter", edit(func(m, _ []map[string]any) { m[3]["invited_by"] = "nobody" }),
			`members[3] "dave": invited_by: no member "nobody" in this file or in ratioguard`},
		{"unknown uploader", edit(func(_, tr []map[string]any) { tr[0]["uploader"] = "ghost" }),
			`torrents[0] "f8c154180acca5cdad774be8f926842593880c70": uploader: no member "ghost" in this file or in ratioguard`},
		{"passkey of a member outside the file", edit(func(m, _ []map[string]any) { m[2]["passkey"] = "oooooooooooooooooooooooooooooooo" }),
			`members[2] "carol": passkey: already the passkey of member "outsider"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			f, err := Parse(strings.NewReader(string(c.file)))
			if err == nil {
				_, err = Import(ctx, pg.Pool, f, Options{})
			}
			var inv *InvalidError
			if !errors.As(err, &inv) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v\nwant an *InvalidError with %q", err, c.want)
			}
			if digest(t, pg.Pool) != before {
				t.Fatal("the database changed")
			}
		})
	}

	// An inviter outside the file that ratioguard knows is fine.
	doc := testdata(t)
	doc["members"][3]["invited_by"] = "outsider"
	run(t, pg.Pool, load(t, doc))
	if u := user(t, pg.Pool, "dave"); u.Inviter != "outsider" {
		t.Fatalf("dave %+v", u)
	}
}

func TestImportDryRunWritesNothing(t *testing.T) {
	pg := testenv.Postgres(t)
	before := digest(t, pg.Pool)
	f, err := ReadFile("testdata/site.json")
	if err != nil {
		t.Fatal(err)
	}
	s, err := Import(context.Background(), pg.Pool, f, Options{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if !s.DryRun || s.Members.Created != 4 || s.Torrents.Created != 7 || s.Seedboxes.Added != 3 {
		t.Fatalf("dry run: %+v", s)
	}
	if digest(t, pg.Pool) != before {
		t.Fatal("dry run changed the database")
	}
}

// NexusPHP's report secrets: a member's set replaced by the file's, kept
// when the file leaves it out, written only where it differs; a running
// tracker's cache then accepts the member's authkeys.
func TestImportReportSecrets(t *testing.T) {
	pg := testenv.Postgres(t)
	ctx := context.Background()
	doc := testdata(t)
	alice := doc["members"][0]
	alice["site_id"] = 7
	alice["report_secrets"] = map[string]string{"0": "abc", "55": "x"}
	cache := policy.NewCache()
	syncer := policy.NewSyncer(pg.Pool, cache, policy.SyncConfig{Resync: time.Hour}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	go func() { _ = syncer.Run(sctx) }()
	waitFor(t, "tracker load", func() bool { return syncer.Ready() == nil })

	s := run(t, pg.Pool, load(t, doc))
	if s.Secrets != (SecretCounts{Members: 1, Changed: 1, Set: 2, Written: 2}) {
		t.Fatalf("first import: %+v", s.Secrets)
	}
	pk := user(t, pg.Pool, "alice").Passkey
	// Hashids("abc").encode(20261203) = n7PM5G, Hashids("x") = xWGqaP.
	waitFor(t, "the authkey accepted", func() bool { got, _ := cache.PasskeyByAuthkey("56|7|n7PM5G"); return got == pk })
	if got, _ := cache.PasskeyByAuthkey("55|7|xWGqaP"); got != pk {
		t.Errorf("torrent 55's secret: %q", got)
	}

	before := digest(t, pg.Pool)
	fired := notifications(t, pg.Pool, func() { s = run(t, pg.Pool, load(t, doc)) })
	if s.Secrets != (SecretCounts{Members: 1, Set: 2}) || fired != 0 || digest(t, pg.Pool) != before {
		t.Errorf("re-import: %+v, %d notifications", s.Secrets, fired)
	}
	delete(alice, "report_secrets")
	if s = run(t, pg.Pool, load(t, doc)); s.Secrets != (SecretCounts{}) {
		t.Errorf("left out: %+v", s.Secrets)
	}
	alice["report_secrets"] = map[string]string{"0": "abc2"}
	if s = run(t, pg.Pool, load(t, doc)); s.Secrets != (SecretCounts{Members: 1, Changed: 1, Set: 1, Written: 1, Removed: 1}) {
		t.Errorf("replaced: %+v", s.Secrets)
	}
	waitFor(t, "the old secret refused", func() bool { _, ok := cache.PasskeyByAuthkey("56|7|n7PM5G"); return !ok })
	var n int
	if err := pg.Pool.QueryRow(ctx, "SELECT count(*) FROM report_secrets WHERE secret = 'abc2' AND torrent_site_id = 0").Scan(&n); err != nil || n != 1 {
		t.Errorf("rows: %d, %v", n, err)
	}

	for _, bad := range []map[string]string{{"-1": "s"}, {"x": "s"}, {"01": "s"}, {"0": ""}} {
		alice["report_secrets"] = bad
		b, _ := json.Marshal(doc)
		var inv *InvalidError
		if _, err := Parse(strings.NewReader(string(b))); !errors.As(err, &inv) || !strings.Contains(err.Error(), "report_secrets") {
			t.Errorf("report_secrets %v: %v", bad, err)
		}
	}
}
