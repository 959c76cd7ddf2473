package control_test

import (
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ratioguard/ratioguard/ingest/consumer"
	"github.com/ratioguard/ratioguard/ingest/ingesttest"
	"github.com/ratioguard/ratioguard/ingest/ledger"
	"github.com/ratioguard/ratioguard/ingest/site"
	"github.com/ratioguard/ratioguard/internal/config"
	"github.com/ratioguard/ratioguard/internal/testenv"
	"github.com/ratioguard/ratioguard/schemas/events"
	"github.com/ratioguard/ratioguard/tracker/control"
	"github.com/ratioguard/ratioguard/tracker/control/controltest"
	"github.com/ratioguard/ratioguard/tracker/control/ocelot"
	"github.com/ratioguard/ratioguard/tracker/control/unit3d"
	"github.com/ratioguard/ratioguard/tracker/stream"
)

// cycleSite is what the cycle test does the way one site does it.
type cycleSite struct {
	name   string // site.SiteGazelle or site.SiteUNIT3D
	schema string // ingest/site/testdata/<schema>
	mount  func(t *testing.T, r chi.Router, svc *control.Service)
	// rows creates the site's rows of members cycleUp and cycleDown and of
	// torrent cycleTorrent, as the site's app does at registration and
	// upload.
	rows []string
	// register tells the tracker, through the site's control protocol.
	register func(t *testing.T, e *controltest.Env, ih [20]byte, pkUp, pkDown string)
	announce string // the announce URL's path, %s the passkey
	// Queries of the site's tables: a member's credited totals (id); a
	// peer's active, left, peer_id and agent (torrent, member); a torrent's
	// seeders, leechers and completions (torrent); completions of a
	// member (member, torrent).
	user, peer, torrent, snatches string
}

// The site ids of the cycle: the uploader, the downloader, the torrent.
const cycleUp, cycleDown, cycleTorrent = 41, 42, 701

var cycleSites = []cycleSite{{
	name: site.SiteGazelle, schema: "gazelle.sql",
	mount: func(_ *testing.T, r chi.Router, svc *control.Service) {
		ocelot.New(svc, ocelot.Config{SiteSecret: e2eSecret}, svc.Log()).Mount(r)
	},
	rows: []string{"INSERT INTO users_leech_stats (UserID) VALUES (41), (42)", "INSERT INTO torrents_leech_stats (TorrentID) VALUES (701)"},
	register: func(t *testing.T, e *controltest.Env, ih [20]byte, pkUp, pkDown string) {
		ocelotUpdate(t, e, "add_user", "passkey", pkUp, "id", strconv.Itoa(cycleUp), "visible", "1")
		ocelotUpdate(t, e, "add_user", "passkey", pkDown, "id", strconv.Itoa(cycleDown), "visible", "1")
		ocelotUpdate(t, e, "add_torrent", "info_hash", escape(ih[:]), "id", strconv.Itoa(cycleTorrent), "freetorrent", "0")
	},
	announce: "/%s/announce",
	user:     "SELECT Uploaded, Downloaded FROM users_leech_stats WHERE UserID = ?",
	peer:     "SELECT active, remaining, peer_id, useragent FROM xbt_files_users WHERE fid = ? AND uid = ?",
	torrent:  "SELECT Seeders, Leechers, Snatched FROM torrents_leech_stats WHERE TorrentID = ?",
	snatches: "SELECT COUNT(*) FROM xbt_snatched WHERE uid = ? AND fid = ?",
}, {
	name: site.SiteUNIT3D, schema: "unit3d.sql",
	mount: func(t *testing.T, r chi.Router, svc *control.Service) {
		h, err := unit3d.New(svc, e2eKey, svc.Log())
		if err != nil {
			t.Fatal(err)
		}
		h.Mount(r)
	},
	rows: []string{"INSERT INTO users (id) VALUES (41), (42)", "INSERT INTO torrents (id) VALUES (701)"},
	register: func(t *testing.T, e *controltest.Env, ih [20]byte, pkUp, pkDown string) {
		for id, pk := range map[int]string{cycleUp: pkUp, cycleDown: pkDown} {
			unit3dPut(t, e, "users", map[string]any{"id": id, "group_id": 1, "passkey": pk, "can_download": true, "num_seeding": 0, "num_leeching": 0})
		}
		unit3dPut(t, e, "torrents", map[string]any{"id": cycleTorrent, "status": 1, "info_hash": hex.EncodeToString(ih[:]), "is_deleted": false,
			"seeders": 0, "leechers": 0, "times_completed": 0, "download_factor": 100, "upload_factor": 100})
	},
	announce: "/announce/%s",
	user:     "SELECT uploaded, downloaded FROM users WHERE id = ?",
	peer:     "SELECT active, `left`, peer_id, agent FROM peers WHERE torrent_id = ? AND user_id = ?",
	torrent:  "SELECT seeders, leechers, times_completed FROM torrents WHERE id = ?",
	snatches: "SELECT COUNT(*) FROM history WHERE user_id = ? AND torrent_id = ? AND completed_at IS NOT NULL",
}}

// The whole cycle with each site and real clients: the site (scripted as
// its app does it) creates two members' and a torrent's rows in its MariaDB
// and tells the tracker through its control protocol (Gazelle: Ocelot's
// add_user and add_torrent; UNIT3D: UNIT3D-Announce's PUT users and
// torrents); aria2 seeds with the uploader's passkey, another aria2
// downloads with the downloader's, each on the site's announce URL; the
// tracker's events go to Kafka and the write-back lands them in the site's
// tables: each member's credited totals (equal to what the ledger credited
// over the same topic, and to the tracker's events), both peers (stopped),
// the completion, an empty swarm.
func TestSiteCycleWithRealClients(t *testing.T) {
	needClients(t)
	for _, s := range cycleSites {
		t.Run(s.name, func(t *testing.T) { siteCycle(t, s) })
	}
}

func siteCycle(t *testing.T, s cycleSite) {
	e := controltest.Start(t, func(r chi.Router, svc *control.Service) { s.mount(t, r, svc) })
	k, maria := testenv.Kafka(t, 1), testenv.MariaDB(t)
	schema, err := os.ReadFile(filepath.Join("..", "..", "ingest", "site", "testdata", s.schema))
	if err != nil {
		t.Fatal(err)
	}
	maria.Exec(t, string(schema))
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()

	// The tracker's events go to Kafka; the write-back runs behind it.
	producer, err := stream.New(ctx, stream.Config{Brokers: k.Brokers, Topic: k.Topic, SpoolDir: t.TempDir()}, prometheus.NewRegistry(), e.Log)
	if err != nil {
		t.Fatal(err)
	}
	e.Sink.Forward(producer)
	met, err := site.NewMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	wctx, stopWriteback := context.WithCancel(ctx)
	written := make(chan error, 1)
	go func() {
		written <- site.Run(wctx, site.Config{
			Engines: config.Engines{PostgresURL: e.PG.URL, KafkaBrokers: strings.Join(k.Brokers, ",")},
			Site:    s.name, SiteDSN: maria.DSN, Topic: k.Topic, FlushInterval: 100 * time.Millisecond,
			Log: e.Log, Metrics: met,
		})
	}()
	// The ledger reads the same topic: the site must show what it credited.
	ledgered := make(chan error, 1)
	go func() {
		ledgered <- consumer.Run(wctx, consumer.Config{Brokers: k.Brokers, Topic: k.Topic, Linger: 100 * time.Millisecond, Log: e.Log},
			ledger.New(e.PG.Pool, 0, e.Log))
	}()
	defer func() {
		stopWriteback()
		if err := <-written; err != nil {
			t.Errorf("write-back: %v", err)
		}
		if err := <-ledgered; err != nil {
			t.Errorf("ledger: %v", err)
		}
	}()

	dir := t.TempDir()
	for _, d := range []string{"seed", "dl"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	const size = 1<<20 + 777
	want := writePayload(t, filepath.Join(dir, "seed", "payload.bin"), size)
	const pkUp, pkDown = "siteuploadersiteuploadersiteup41", "sitedownloadersitedownloadersd42"
	tUp := mktorrent(t, dir, "up", e.Announce+fmt.Sprintf(s.announce, pkUp))
	tDown := mktorrent(t, dir, "down", e.Announce+fmt.Sprintf(s.announce, pkDown))
	ih := infoHash(t, tUp)
	for _, q := range s.rows {
		if _, err := maria.DB.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	s.register(t, e, ih, pkUp, pkDown)
	member := map[string]uint64{}
	for _, pk := range []string{pkUp, pkDown} {
		m, err := e.Service.Member(ctx, control.MemberRef{Passkey: pk})
		if err != nil {
			t.Fatal(err)
		}
		member[pk] = uint64(m.ID)
	}

	seeder := start(t, dir, "aria2-seeder", aria2("--dir="+filepath.Join(dir, "seed"), "--check-integrity=true",
		"--seed-ratio=0.0", "--listen-port="+strconv.Itoa(freePort(t)), tUp)...)
	waitAnnounced(t, e, "the seeder's announce", 30*time.Second, member[pkUp])
	leecher := start(t, dir, "aria2-leecher", aria2("--dir="+filepath.Join(dir, "dl"), "--seed-time=0",
		"--listen-port="+strconv.Itoa(freePort(t)), tDown)...)
	waitFile(t, filepath.Join(dir, "dl", "payload.bin"), want, 90*time.Second)
	waitAnnounced(t, e, "the leecher's completion", 60*time.Second, member[pkDown])
	leecher.wait(t) // --seed-time=0: it stops, with its stopped announce
	seeder.stop(t)
	// aria2 may exit before the tracker has answered its stopped announce.
	waitFor(t, "both clients' stopped announces", 10*time.Second, func() bool {
		stopped := map[uint64]bool{}
		for _, ev := range e.Sink.All() {
			stopped[ev.GetUserId()] = stopped[ev.GetUserId()] || ev.GetEvent() == events.Event_EVENT_STOPPED
		}
		return stopped[member[pkUp]] && stopped[member[pkDown]]
	})

	// What the tracker credited each member, and the topic's end offsets
	// once the producer has written every event.
	credited := map[uint64][2]uint64{}
	accepted := 0
	for _, ev := range e.Sink.All() {
		if ev.GetResult() == events.Result_RESULT_ACCEPTED {
			accepted++
			c := credited[ev.GetUserId()]
			credited[ev.GetUserId()] = [2]uint64{c[0] + ev.GetCreditedUploaded(), c[1] + ev.GetCreditedDownloaded()}
		}
	}
	published := int64(len(e.Sink.All()))
	var ends map[int32]int64
	for total := int64(0); total < published; {
		if st := producer.Stats(); ctx.Err() != nil || st.Dropped > 0 {
			t.Fatalf("%d of %d events on the topic; producer %+v", total, published, st)
		}
		time.Sleep(50 * time.Millisecond)
		if ends, err = ingesttest.EndOffsets(ctx, k.Brokers, k.Topic); err != nil {
			t.Fatal(err)
		}
		total = 0
		for _, o := range ends {
			total += max(o, 0)
		}
	}
	err = ingesttest.WaitCaughtUp(ctx, ends, func(ctx context.Context) (map[int32]int64, error) {
		return site.StoredOffsets(ctx, maria.DB, s.name, k.Topic)
	}, func(ctx context.Context) (map[int32]int64, error) {
		return ledger.StoredOffsets(ctx, e.PG.Pool, k.Topic)
	})
	if err != nil {
		t.Fatalf("the write-back and the ledger did not store the topic: %v", err)
	}
	if err := met.Ready(ctx); err != nil {
		t.Errorf("write-back not ready after storing every batch: %v", err)
	}

	// The site's tables.
	for pk, id := range map[string]int{pkUp: cycleUp, pkDown: cycleDown} {
		var up, down uint64
		if err := maria.DB.QueryRowContext(ctx, s.user, id).Scan(&up, &down); err != nil {
			t.Fatal(err)
		}
		var lup, ldown uint64
		if err := e.PG.Pool.QueryRow(ctx, `SELECT coalesce(sum(credited_uploaded), 0)::bigint, coalesce(sum(credited_downloaded), 0)::bigint
			FROM ledger_user_torrents WHERE user_id = $1`, member[pk]).Scan(&lup, &ldown); err != nil {
			t.Fatal(err)
		}
		if c := credited[member[pk]]; up != lup || down != ldown || c != [2]uint64{lup, ldown} {
			t.Errorf("site member %d: uploaded %d, downloaded %d; the ledger credited %d, %d; the tracker's events %d, %d", id, up, down, lup, ldown, c[0], c[1])
		}
	}
	if c := credited[member[pkUp]]; c[0] < size || c[1] != 0 {
		t.Errorf("uploader credited %d up, %d down; want at least %d up, 0 down", c[0], c[1], size)
	}
	if c := credited[member[pkDown]]; c[1] < size {
		t.Errorf("downloader credited %d down; want at least %d", c[1], size)
	}
	for _, id := range []int{cycleUp, cycleDown} {
		var active, remaining int64
		var peerID, agent string
		err := maria.DB.QueryRowContext(ctx, s.peer, cycleTorrent, id).
			Scan(&active, &remaining, &peerID, &agent)
		if err != nil {
			t.Fatalf("site member %d's peer on torrent %d: %v", id, cycleTorrent, err)
		}
		if active != 0 || remaining != 0 || !strings.HasPrefix(peerID, "A2-") || !strings.HasPrefix(agent, "aria2/") {
			t.Errorf("site member %d's peer: active %d remaining %d peer_id %q agent %q; want a stopped aria2 with nothing left", id, active, remaining, peerID, agent)
		}
	}
	var seeders, leechers, snatched int64
	if err := maria.DB.QueryRowContext(ctx, s.torrent, cycleTorrent).Scan(&seeders, &leechers, &snatched); err != nil {
		t.Fatal(err)
	}
	if seeders != 0 || leechers != 0 || snatched != 1 {
		t.Errorf("torrent %d: seeders %d leechers %d snatched %d; want 0 0 1 (both stopped, one completion)", cycleTorrent, seeders, leechers, snatched)
	}
	var snatches int64
	if err := maria.DB.QueryRowContext(ctx, s.snatches, cycleDown, cycleTorrent).Scan(&snatches); err != nil || snatches != 1 {
		t.Errorf("downloader's snatches: %d (%v); want 1", snatches, err)
	}
	t.Logf("%d announces accepted (%d events); uploader credited %d B up, downloader %d B down", accepted, published,
		credited[member[pkUp]][0], credited[member[pkDown]][1])
}
