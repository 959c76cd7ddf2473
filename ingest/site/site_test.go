package site

import (
	"context"
	"database/sql"
	_ "embed"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ratioguard/ratioguard/ingest/consumer"
	"github.com/ratioguard/ratioguard/internal/testenv"
	"github.com/ratioguard/ratioguard/schemas/events"
)

var (
	//go:embed testdata/gazelle.sql
	gazelleSchema string
	//go:embed testdata/unit3d.sql
	unit3dSchema string
)

// env is one test's engines: ratioguard's Postgres and the site's database.
type env struct {
	w    *Writer
	site testenv.Maria
	db   *sql.DB // the site database as the write-back opens it
	pg   testenv.PG
}

// siteUser and siteTorrent are the site ids the tests give ratioguard's
// members and torrents (users.site_id, torrents.site_id).
func siteUser(id int64) int64    { return 1000 + id }
func siteTorrent(id int64) int64 { return 5000 + id }

// newEnv creates the site's tables from the published schema, and members
// 1..users and torrents 1..torrents in Postgres with site ids, except the
// members in noUser and the torrents in noTorrent. UNIT3D's users and
// torrents rows are the site's: created here for the mapped ones.
func newEnv(t testing.TB, siteName string, users, torrents int, noUser, noTorrent map[int64]bool) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{site: testenv.MariaDB(t), pg: testenv.Postgres(t)}
	schema := gazelleSchema
	if siteName == SiteUNIT3D {
		schema = unit3dSchema
	}
	e.site.Exec(t, schema)
	if _, err := e.pg.Pool.Exec(ctx, `INSERT INTO users (id, name, passkey) SELECT i, 'user' || i, md5('pk' || i) FROM generate_series(1, $1::int) AS i`, users); err != nil {
		t.Fatal(err)
	}
	if _, err := e.pg.Pool.Exec(ctx, `INSERT INTO torrents (id, info_hash, name, size)
		SELECT i, substring(sha256(int4send(i)) from 1 for 20), 't' || i, 1 << 30 FROM generate_series(1, $1::int) AS i`, torrents); err != nil {
		t.Fatal(err)
	}
	db, err := OpenSiteDB(e.site.DSN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e.db = db
	for u := int64(1); u <= int64(users); u++ {
		if noUser[u] {
			continue
		}
		if _, err := e.pg.Pool.Exec(ctx, `UPDATE users SET site_id = $2 WHERE id = $1`, u, siteUser(u)); err != nil {
			t.Fatal(err)
		}
		if siteName == SiteUNIT3D {
			e.exec(t, "INSERT INTO users (id) VALUES (?)", siteUser(u))
		} else {
			e.exec(t, "INSERT INTO users_leech_stats (UserID) VALUES (?)", siteUser(u))
		}
	}
	for tr := int64(1); tr <= int64(torrents); tr++ {
		if noTorrent[tr] {
			continue
		}
		if _, err := e.pg.Pool.Exec(ctx, `UPDATE torrents SET site_id = $2 WHERE id = $1`, tr, siteTorrent(tr)); err != nil {
			t.Fatal(err)
		}
		if siteName == SiteUNIT3D {
			e.exec(t, "INSERT INTO torrents (id) VALUES (?)", siteTorrent(tr))
		} else {
			e.exec(t, "INSERT INTO torrents_leech_stats (TorrentID) VALUES (?)", siteTorrent(tr))
		}
	}
	w, err := New(siteName, db, e.pg.Pool, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.EnsureTables(ctx); err != nil {
		t.Fatal(err)
	}
	e.w = w
	return e
}

func (e *env) exec(t testing.TB, q string, args ...any) {
	t.Helper()
	if _, err := e.db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// row scans one row of the site's database.
func (e *env) row(t testing.TB, q string, args []any, dest ...any) {
	t.Helper()
	if err := e.db.QueryRow(q, args...).Scan(dest...); err != nil {
		t.Fatalf("%s %v: %v", q, args, err)
	}
}

func (e *env) count(t testing.TB, q string, args ...any) int64 {
	t.Helper()
	var n int64
	e.row(t, q, args, &n)
	return n
}

// announce is a test event; seq makes its id.
type announce struct {
	seq                        uint64
	user, torrent              int64
	peer                       string
	event                      events.Event
	rawUp, rawDown, cred2Up    uint64 // cred2Up: credited upload (raw when 0)
	credDown                   int64  // credited download; -1: raw
	left, uploaded, downloaded uint64
	since, seedtime            uint32
	snatch, refused            bool
	promo                      string
	at                         time.Time
}

var producer = [8]byte{1, 2, 3, 4, 5, 6, 7, 8}

func (x announce) announce() *events.Announce {
	a := &events.Announce{
		SchemaVersion: events.SchemaVersion, EventId: events.ID(producer, x.seq), ProducerId: producer[:], Sequence: x.seq,
		TimeUnixNano: x.at.UnixNano(), UserId: uint64(x.user), TorrentId: uint64(x.torrent),
		InfoHash: make([]byte, 20), PeerId: []byte(x.peer), Ip: []byte{10, 0, 0, byte(x.user)}, Port: 6881,
		UserAgent: "qBittorrent/4.6.5", Event: x.event, Uploaded: x.uploaded, Downloaded: x.downloaded, Left: x.left,
		DeltaUploaded: x.rawUp, DeltaDownloaded: x.rawDown, CreditedUploaded: x.rawUp, CreditedDownloaded: x.rawDown,
		SecondsSincePrevious: x.since, SeedtimeSeconds: x.seedtime, Snatch: x.snatch, Result: events.Result_RESULT_ACCEPTED,
		Promotion: &events.Promotion{Name: "none", DownloadPercent: 100, UploadPercent: 100},
	}
	if x.cred2Up != 0 {
		a.CreditedUploaded = x.cred2Up
	}
	if x.credDown >= 0 {
		a.CreditedDownloaded = uint64(x.credDown)
	}
	if x.promo != "" {
		a.Promotion.Name = x.promo
	}
	if x.refused {
		a.Result, a.Refusal = events.Result_RESULT_REFUSED, events.Refusal_REFUSAL_CLIENT_BANNED
	}
	return a
}

func batch(prev int64, xs ...announce) *consumer.Batch {
	b := &consumer.Batch{Topic: "announces", Partition: 0, Prev: prev}
	off := prev
	if off < 0 {
		off = 0
	}
	for _, x := range xs {
		b.Events = append(b.Events, consumer.Event{Offset: off, A: x.announce()})
		off++
	}
	b.Next = off
	return b
}

const (
	peerA = "-qB4650-aaaaaaaaaaaa"
	peerB = "-TR3000-bbbbbbbbbbbb"
)

// scenario is what both sites' tests feed: member 1 leeches torrent 1 under
// 2x upload and freeleech, completes it and seeds; member 2 seeds torrent 1
// and stops; member 1 uses a freeleech token on torrent 3 and completes it.
// Member 3 has no site id, torrent 2 has none, one announce is refused.
func scenario(t0 time.Time) (first, second []announce) {
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	first = []announce{
		{seq: 1, user: 1, torrent: 1, peer: peerA, event: events.Event_EVENT_STARTED, left: 1000, credDown: -1, at: at(0)},
		{seq: 2, user: 1, torrent: 1, peer: peerA, rawUp: 1000, rawDown: 600, cred2Up: 2000, credDown: 0, promo: "free+2x",
			uploaded: 1000, downloaded: 600, left: 400, since: 1800, at: at(1800)},
		{seq: 3, user: 2, torrent: 1, peer: peerB, event: events.Event_EVENT_STARTED, credDown: -1, at: at(1801)},
		{seq: 4, user: 3, torrent: 1, peer: peerA, rawUp: 50, credDown: -1, since: 10, at: at(1802)},     // no site id: skipped
		{seq: 5, user: 1, torrent: 2, peer: peerA, rawUp: 70, credDown: -1, since: 10, at: at(1803)},     // no site id: skipped
		{seq: 6, user: 1, torrent: 1, peer: peerA, rawUp: 99, credDown: -1, refused: true, at: at(1804)}, // refused: nothing
	}
	second = []announce{
		first[1], // a duplicate (same event id): nothing more
		{seq: 7, user: 1, torrent: 1, peer: peerA, event: events.Event_EVENT_COMPLETED, rawUp: 10, rawDown: 400, credDown: 0,
			promo: "free", uploaded: 1010, downloaded: 1000, since: 60, snatch: true, at: at(1860)},
		{seq: 8, user: 2, torrent: 1, peer: peerB, rawUp: 300, credDown: -1, uploaded: 300, since: 1800, seedtime: 1800, at: at(3601)},
		{seq: 9, user: 2, torrent: 1, peer: peerB, event: events.Event_EVENT_STOPPED, rawUp: 5, credDown: -1, uploaded: 305,
			since: 10, seedtime: 10, at: at(3611)},
		{seq: 10, user: 1, torrent: 3, peer: peerA, event: events.Event_EVENT_STARTED, left: 700, credDown: -1, promo: "token", at: at(3620)},
		{seq: 11, user: 1, torrent: 3, peer: peerA, event: events.Event_EVENT_COMPLETED, rawDown: 700, credDown: 0, promo: "token",
			downloaded: 700, since: 30, snatch: true, at: at(3650)},
	}
	return first, second
}

func store(t *testing.T, w *Writer, b *consumer.Batch) {
	t.Helper()
	if err := w.Store(context.Background(), b); err != nil {
		t.Fatal(err)
	}
}

func TestGazelleWriteBack(t *testing.T) {
	e := newEnv(t, SiteGazelle, 3, 3, map[int64]bool{3: true}, map[int64]bool{2: true})
	t0 := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	first, second := scenario(t0)
	b1 := batch(-1, first...)
	store(t, e.w, b1)
	b2 := batch(b1.Next, second...)
	store(t, e.w, b2)

	// A batch that does not start where the stored offset is: fenced, nothing written.
	err := e.w.Store(context.Background(), batch(b1.Next, announce{seq: 99, user: 1, torrent: 1, peer: peerA, rawUp: 1 << 30, credDown: -1, at: t0}))
	if !errors.Is(err, consumer.ErrFenced) {
		t.Fatalf("store after a moved offset: %v, want ErrFenced", err)
	}

	var up, down int64
	e.row(t, "SELECT Uploaded, Downloaded FROM users_leech_stats WHERE UserID = ?", []any{siteUser(1)}, &up, &down)
	if up != 2000+10 || down != 0 {
		t.Errorf("member 1 credited %d up, %d down; want 2010, 0 (2x and freeleech, the token torrent free)", up, down)
	}
	e.row(t, "SELECT Uploaded, Downloaded FROM users_leech_stats WHERE UserID = ?", []any{siteUser(2)}, &up, &down)
	if up != 305 || down != 0 {
		t.Errorf("member 2 credited %d up, %d down; want 305, 0", up, down)
	}
	var seeders, leechers, snatched, balance int64
	var lastAction sql.NullTime
	e.row(t, "SELECT Seeders, Leechers, Snatched, Balance, last_action FROM torrents_leech_stats WHERE TorrentID = ?", []any{siteTorrent(1)},
		&seeders, &leechers, &snatched, &balance, &lastAction)
	// peer A seeds after completing; peer B stopped.
	if seeders != 1 || leechers != 0 || snatched != 1 || balance != (1000+10+300+5)-(600+400) {
		t.Errorf("torrent 1: seeders %d leechers %d snatched %d balance %d; want 1 0 1 315", seeders, leechers, snatched, balance)
	}
	if !lastAction.Valid || !lastAction.Time.Equal(t0.Add(3611*time.Second)) {
		t.Errorf("torrent 1 last_action %v; want the last announce %v", lastAction, t0.Add(3611*time.Second))
	}
	e.row(t, "SELECT Seeders, Leechers, Snatched FROM torrents_leech_stats WHERE TorrentID = ?", []any{siteTorrent(3)}, &seeders, &leechers, &snatched)
	if seeders != 1 || leechers != 0 || snatched != 1 {
		t.Errorf("torrent 3: seeders %d leechers %d snatched %d; want 1 0 1", seeders, leechers, snatched)
	}

	var active, announced, timespent int64
	var remaining, uploaded int64
	var ip, agent string
	e.row(t, "SELECT active, announced, timespent, remaining, uploaded, ip, useragent FROM xbt_files_users WHERE uid = ? AND fid = ? AND peer_id = ?",
		[]any{siteUser(2), siteTorrent(1), []byte(peerB)}, &active, &announced, &timespent, &remaining, &uploaded, &ip, &agent)
	if active != 0 || announced != 3 || timespent != 1810 || remaining != 0 || uploaded != 305 || ip != "10.0.0.2" || agent != "qBittorrent/4.6.5" {
		t.Errorf("peer B row: active %d announced %d timespent %d remaining %d uploaded %d ip %q agent %q", active, announced, timespent, remaining, uploaded, ip, agent)
	}
	if n := e.count(t, "SELECT COUNT(*) FROM xbt_files_users"); n != 3 {
		t.Errorf("%d xbt_files_users rows; want 3 (A on 1 and 3, B on 1)", n)
	}
	if n := e.count(t, "SELECT COUNT(*) FROM xbt_snatched WHERE uid = ? AND fid IN (?, ?) AND IP = '10.0.0.1'", siteUser(1), siteTorrent(1), siteTorrent(3)); n != 2 {
		t.Errorf("%d snatches of member 1; want 2", n)
	}
	var tokDown int64
	e.row(t, "SELECT Downloaded FROM users_freeleeches WHERE UserID = ? AND TorrentID = ?", []any{siteUser(1), siteTorrent(3)}, &tokDown)
	if tokDown != 700 {
		t.Errorf("token download %d; want 700", tokDown)
	}

	s := e.w.Stats()
	if s.Applied != 8 || s.Duplicates != 1 || s.UnknownMember != 1 || s.UnknownTorrent != 1 || s.MissingRows != 0 {
		t.Errorf("stats %+v; want 8 applied, 1 duplicate, 1 unknown member, 1 unknown torrent", s)
	}
	if next, err := e.w.Resume(context.Background(), "announces", 0); err != nil || next != b2.Next {
		t.Errorf("resume at %d, %v; want %d", next, err, b2.Next)
	}

	// The token completion is queued for the site's callback, sent once.
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.URL.RequestURI())
	}))
	defer srv.Close()
	exp := &Expirer{DB: e.db, Site: srv.URL + "/", Key: "s3cret"}
	if n, err := exp.Flush(context.Background()); err != nil || n != 1 {
		t.Fatalf("expiry flush sent %d, %v; want 1", n, err)
	}
	want := "/tools.php?action=ocelot&key=s3cret&type=expiretoken&tokens=1001:5003"
	if len(got) != 1 || got[0] != want {
		t.Errorf("callbacks %q; want [%q]", got, want)
	}
	if n, err := exp.Flush(context.Background()); err != nil || n != 0 {
		t.Errorf("second flush sent %d, %v; want nothing left", n, err)
	}
}

// A site that refuses the callback keeps the expiry queued.
func TestGazelleExpiryRetriedUntilTheSiteTakesIt(t *testing.T) {
	e := newEnv(t, SiteGazelle, 1, 1, nil, nil)
	e.exec(t, "INSERT INTO ratioguard_token_expiry (user_id, torrent_id, queued_at) VALUES (1001, 5001, 1)")
	status := http.StatusForbidden
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(status) }))
	defer srv.Close()
	exp := &Expirer{DB: e.db, Site: srv.URL, Key: "k"}
	if _, err := exp.Flush(context.Background()); err == nil {
		t.Fatal("a 403 from the site was taken for done")
	}
	if n := e.count(t, "SELECT COUNT(*) FROM ratioguard_token_expiry"); n != 1 {
		t.Fatalf("%d queued after a refused callback; want 1", n)
	}
	status = http.StatusOK
	if n, err := exp.Flush(context.Background()); err != nil || n != 1 {
		t.Fatalf("flush sent %d, %v; want 1", n, err)
	}
	if n := e.count(t, "SELECT COUNT(*) FROM ratioguard_token_expiry"); n != 0 {
		t.Fatalf("%d queued after the site took it; want 0", n)
	}
}

func TestUNIT3DWriteBack(t *testing.T) {
	e := newEnv(t, SiteUNIT3D, 3, 3, map[int64]bool{3: true}, map[int64]bool{2: true})
	t0 := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	first, second := scenario(t0)
	b1 := batch(-1, first...)
	store(t, e.w, b1)
	store(t, e.w, batch(b1.Next, second...))

	var up, down int64
	e.row(t, "SELECT uploaded, downloaded FROM users WHERE id = ?", []any{siteUser(1)}, &up, &down)
	if up != 2010 || down != 0 {
		t.Errorf("member 1 credited %d up, %d down; want 2010, 0", up, down)
	}
	var seeders, leechers, completed, balance int64
	e.row(t, "SELECT seeders, leechers, times_completed, balance FROM torrents WHERE id = ?", []any{siteTorrent(1)}, &seeders, &leechers, &completed, &balance)
	if seeders != 1 || leechers != 0 || completed != 1 || balance != 315 {
		t.Errorf("torrent 1: seeders %d leechers %d completed %d balance %d; want 1 0 1 315", seeders, leechers, completed, balance)
	}
	var hUp, hActUp, hCliUp, hDown, hActDown, hCliDown, seedtime int64
	var seeder, active bool
	var completedAt sql.NullTime
	e.row(t, `SELECT uploaded, actual_uploaded, client_uploaded, downloaded, actual_downloaded, client_downloaded, seeder, active, seedtime, completed_at
		FROM history WHERE user_id = ? AND torrent_id = ?`, []any{siteUser(1), siteTorrent(1)},
		&hUp, &hActUp, &hCliUp, &hDown, &hActDown, &hCliDown, &seeder, &active, &seedtime, &completedAt)
	if hUp != 2010 || hActUp != 1010 || hCliUp != 1010 || hDown != 0 || hActDown != 1000 || hCliDown != 1000 || !seeder || !active {
		t.Errorf("history of member 1 on torrent 1: credited %d/%d actual %d/%d client %d/%d seeder %v active %v",
			hUp, hDown, hActUp, hActDown, hCliUp, hCliDown, seeder, active)
	}
	if !completedAt.Valid || !completedAt.Time.Equal(t0.Add(1860*time.Second)) {
		t.Errorf("completed_at %v; want %v", completedAt, t0.Add(1860*time.Second))
	}
	e.row(t, "SELECT seedtime, active FROM history WHERE user_id = ? AND torrent_id = ?", []any{siteUser(2), siteTorrent(1)}, &seedtime, &active)
	if seedtime != 1810 || active {
		t.Errorf("history of member 2: seedtime %d active %v; want 1810, false", seedtime, active)
	}
	var ip []byte
	var left int64
	e.row(t, "SELECT ip, `left`, active, seeder FROM peers WHERE user_id = ? AND torrent_id = ? AND peer_id = ?",
		[]any{siteUser(1), siteTorrent(1), []byte(peerA)}, &ip, &left, &active, &seeder)
	if string(ip) != "\x0a\x00\x00\x01" || left != 0 || !active || !seeder {
		t.Errorf("peer A: ip %x left %d active %v seeder %v", ip, left, active, seeder)
	}
	if n := e.count(t, "SELECT COUNT(*) FROM history"); n != 3 {
		t.Errorf("%d history rows; want 3", n)
	}
	s := e.w.Stats()
	if s.Applied != 8 || s.Duplicates != 1 || s.UnknownMember != 1 || s.UnknownTorrent != 1 || s.MissingRows != 0 {
		t.Errorf("stats %+v", s)
	}
}

// A member with a site id whose row the site no longer has: nothing of it is
// written (UNIT3D's history and peers would trip their foreign keys to
// users), it is counted, and the batch commits with everything else.
func TestMissingSiteRowIsCountedNotFatal(t *testing.T) {
	for _, s := range []string{SiteGazelle, SiteUNIT3D} {
		t.Run(s, func(t *testing.T) {
			e := newEnv(t, s, 2, 1, nil, nil)
			users, peers := "users_leech_stats WHERE UserID", "xbt_files_users WHERE uid"
			if s == SiteUNIT3D {
				users, peers = "users WHERE id", "peers WHERE user_id"
			}
			e.exec(t, "DELETE FROM "+users+" = ?", siteUser(2))
			t0 := time.Now().UTC().Add(-time.Minute)
			b := batch(-1,
				announce{seq: 1, user: 1, torrent: 1, peer: peerA, rawUp: 10, credDown: -1, since: 5, at: t0},
				announce{seq: 2, user: 2, torrent: 1, peer: peerB, rawUp: 20, left: 9, credDown: -1, since: 5, at: t0})
			store(t, e.w, b)
			if st := e.w.Stats(); st.MissingRows != 1 || st.Applied != 2 {
				t.Errorf("stats %+v; want 1 missing row, 2 applied", st)
			}
			if next, err := e.w.Resume(context.Background(), "announces", 0); err != nil || next != b.Next {
				t.Errorf("resume at %d, %v; want %d: the batch is stored", next, err, b.Next)
			}
			if n := e.count(t, "SELECT COUNT(*) FROM "+peers+" = ?", siteUser(2)); n != 0 {
				t.Errorf("%d peer rows of the missing member", n)
			}
			if n := e.count(t, "SELECT COUNT(*) FROM "+peers+" = ?", siteUser(1)); n != 1 {
				t.Errorf("%d peer rows of member 1; want 1", n)
			}
			if seeders, leechers := e.swarm(t, s); seeders != 1 || leechers != 0 {
				t.Errorf("%d seeders, %d leechers; want 1, 0 (member 1 only)", seeders, leechers)
			}
		})
	}
}

func TestUnknownSite(t *testing.T) {
	if _, err := New("nexusphp", nil, nil, 0, nil); err == nil {
		t.Fatal("an unknown site was accepted")
	}
}

// Peers the tracker dropped (silent for the peer timeout, no stopped
// announce) leave their torrents' seeders and leechers; a peer the batch
// touches is kept.
func TestSilentPeersAreReaped(t *testing.T) {
	for _, s := range []string{SiteGazelle, SiteUNIT3D} {
		t.Run(s, func(t *testing.T) {
			e := newEnv(t, s, 3, 1, nil, nil)
			t0 := time.Now().UTC().Add(-3 * time.Hour).Truncate(time.Second)
			b1 := batch(-1,
				announce{seq: 1, user: 1, torrent: 1, peer: peerA, event: events.Event_EVENT_STARTED, credDown: -1, at: t0},
				announce{seq: 2, user: 2, torrent: 1, peer: peerB, event: events.Event_EVENT_STARTED, left: 5, credDown: -1, at: t0},
				announce{seq: 3, user: 3, torrent: 1, peer: peerA, event: events.Event_EVENT_STARTED, left: 5, credDown: -1, at: t0})
			store(t, e.w, b1)
			seeders, leechers := e.swarm(t, s)
			if seeders != 1 || leechers != 2 {
				t.Fatalf("after the starts: %d seeders, %d leechers; want 1, 2", seeders, leechers)
			}
			// Two hours later only member 3 announces: 1 and 2 were dropped.
			store(t, e.w, batch(b1.Next, announce{seq: 4, user: 3, torrent: 1, peer: peerA, left: 5, credDown: -1, since: 7200, at: t0.Add(2 * time.Hour)}))
			seeders, leechers = e.swarm(t, s)
			if seeders != 0 || leechers != 1 {
				t.Errorf("after the peer timeout: %d seeders, %d leechers; want 0, 1", seeders, leechers)
			}
			q := "SELECT COUNT(*) FROM xbt_files_users WHERE active = 1"
			if s == SiteUNIT3D {
				q = "SELECT COUNT(*) FROM peers WHERE active = 1"
			}
			if n := e.count(t, q); n != 1 {
				t.Errorf("%d active peer rows; want 1", n)
			}
		})
	}
}

// swarm reads torrent 1's seeders and leechers.
func (e *env) swarm(t *testing.T, site string) (seeders, leechers int64) {
	t.Helper()
	q := "SELECT Seeders, Leechers FROM torrents_leech_stats WHERE TorrentID = ?"
	if site == SiteUNIT3D {
		q = "SELECT seeders, leechers FROM torrents WHERE id = ?"
	}
	e.row(t, q, []any{siteTorrent(1)}, &seeders, &leechers)
	return seeders, leechers
}
