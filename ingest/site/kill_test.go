package site

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/ratioguard/ratioguard/ingest/consumer"
	"github.com/ratioguard/ratioguard/ingest/ingesttest"
	"github.com/ratioguard/ratioguard/ingest/ledger"
	"github.com/ratioguard/ratioguard/internal/config"
	"github.com/ratioguard/ratioguard/internal/testenv"
	"github.com/ratioguard/ratioguard/schemas/events"
)

// childEnv marks the test binary re-executed as a write-back process that
// the exactly-once test SIGKILLs (see TestMain).
const childEnv = "RG_WRITEBACK_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		os.Exit(runChild())
	}
	os.Exit(m.Run())
}

// runChild is the write-back as `ratioguard writeback` runs it, configured
// by the environment the test sets.
func runChild() int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	batch, _ := strconv.Atoi(os.Getenv("RG_WB_BATCH"))
	err := Run(ctx, Config{
		Engines: config.FromEnv(), Site: os.Getenv(config.EnvSite), SiteDSN: os.Getenv(config.EnvSiteDSN),
		// Static membership: a restarted process gets its partitions back at
		// once instead of waiting out the killed one's session.
		InstanceID: "kill-test", Topic: os.Getenv("RG_WB_TOPIC"), FlushInterval: 100 * time.Millisecond, MaxBatch: batch,
		// The data set spans 7 ms per event: peers go silent and are reaped.
		PeerTimeout: 20 * time.Second,
		Log:         slog.New(slog.NewTextHandler(os.Stderr, nil)),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "write-back:", err)
		return 1
	}
	return 0
}

// truth is what the site must hold after a data set is written back once.
type truth struct {
	up, down          map[int64]int64 // site member → credited
	snatches, balance map[int64]int64 // site torrent →
	applied           int64
}

// expect computes the truth of msgs: each event id once, accepted, of a
// member and torrent with site ids.
func expect(msgs []ingesttest.Msg, noUser, noTorrent map[int64]bool, users, torrents int) *truth {
	tr := &truth{up: map[int64]int64{}, down: map[int64]int64{}, snatches: map[int64]int64{}, balance: map[int64]int64{}}
	seen := map[string]bool{}
	for _, m := range msgs {
		a := &events.Announce{}
		if events.DecodeInto(m.Value, a) != nil || seen[string(a.GetEventId())] {
			continue
		}
		seen[string(a.GetEventId())] = true
		u, t := int64(a.GetUserId()), int64(a.GetTorrentId())
		if a.GetResult() != events.Result_RESULT_ACCEPTED || u < 1 || u > int64(users) || t < 1 || t > int64(torrents) || noUser[u] || noTorrent[t] {
			continue
		}
		tr.applied++
		tr.up[siteUser(u)] += int64(a.GetCreditedUploaded())
		tr.down[siteUser(u)] += int64(a.GetCreditedDownloaded())
		tr.balance[siteTorrent(t)] += int64(a.GetDeltaUploaded()) - int64(a.GetDeltaDownloaded())
		if a.GetSnatch() {
			tr.snatches[siteTorrent(t)]++
		}
	}
	return tr
}

// killSize is the CI size; RG_LONG=1 runs 1M events and ten kills per site.
func killSize() (events, kills int) {
	if os.Getenv("RG_LONG") == "1" {
		return 1_000_000, 10
	}
	return 12_000, 4
}

// TestWriteBackExactlyOnceAcrossKills produces a data set (duplicates,
// garbage, refused announces, members and torrents without site ids) and
// writes it back with a write-back process that is SIGKILLed at random
// moments, mostly in the middle of a batch, and started again. Afterwards
// every member's and torrent's totals in the site equal the truth exactly,
// each torrent's seeders and leechers equal its peer rows, every skipped
// announce was counted, and every member's totals equal what the ledger,
// run over the same topic, credited them.
func TestWriteBackExactlyOnceAcrossKills(t *testing.T) {
	for _, s := range []string{SiteGazelle, SiteUNIT3D} {
		t.Run(s, func(t *testing.T) { killRun(t, s) })
	}
}

func killRun(t *testing.T, siteName string) {
	n, kills := killSize()
	const users, torrents = 400, 300
	noUser := map[int64]bool{}
	noTorrent := map[int64]bool{}
	for u := int64(7); u <= users; u += 50 {
		noUser[u] = true
	}
	for tr := int64(11); tr <= torrents; tr += 60 {
		noTorrent[tr] = true
	}
	e := newEnv(t, siteName, users, torrents, noUser, noTorrent)
	k := testenv.Kafka(t, 4)
	seed := uint64(time.Now().UnixNano())
	t.Logf("data set seed %d", seed)
	ds := ingesttest.NewDataset(seed, n, users, torrents, 13, 20)
	want := expect(ds.Msgs, noUser, noTorrent, users, torrents)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute+time.Duration(n)*2*time.Millisecond)
	defer cancel()
	if err := ingesttest.Produce(ctx, k.Brokers, k.Topic, ds.Msgs); err != nil {
		t.Fatal(err)
	}
	ends, err := ingesttest.EndOffsets(ctx, k.Brokers, k.Topic)
	if err != nil {
		t.Fatal(err)
	}
	offsets := func(ctx context.Context) (map[int32]int64, error) { return StoredOffsets(ctx, e.db, siteName, k.Topic) }

	logPath := filepath.Join(t.TempDir(), "writeback.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	start := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), childEnv+"=1", config.EnvSite+"="+siteName, config.EnvSiteDSN+"="+e.site.DSN,
			config.EnvPostgresURL+"="+e.pg.URL, config.EnvKafkaBrokers+"="+k.Brokers[0], "RG_WB_TOPIC="+k.Topic, "RG_WB_BATCH=500")
		cmd.Stdout, cmd.Stderr = logFile, logFile
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	var total int64
	for _, o := range ends {
		total += o
	}
	// The i-th kill comes once i/(kills+1) of the stream is stored, after a
	// random few milliseconds: in the middle of a batch more often than not.
	rng := rand.New(rand.NewPCG(seed, 7))
	cmd := start()
	midway := 0
	for i := 1; i <= kills; i++ {
		for ctx.Err() == nil {
			stored, _ := offsets(ctx)
			var sum int64
			for _, o := range stored {
				sum += max(o, 0)
			}
			if sum >= total*int64(i)/int64(kills+1) {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(time.Duration(rng.IntN(60)) * time.Millisecond)
		stored, _ := offsets(ctx)
		if !ingesttest.CaughtUp(stored, ends) {
			midway++
		}
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
		cmd = start()
	}
	if err := ingesttest.WaitCaughtUp(ctx, ends, offsets); err != nil {
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
		log, _ := os.ReadFile(logPath)
		t.Fatalf("%v\nlast lines of the write-back's log:\n%s", err, tail(log, 3000))
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	_ = cmd.Wait()
	if midway == 0 {
		t.Fatalf("no kill landed before the write-back caught up (%d events): nothing was tested", n)
	}
	t.Logf("%d events (%d applied), %d kills, %d before it caught up", len(ds.Msgs), want.applied, kills, midway)

	userSQL := "SELECT UserID, Uploaded, Downloaded FROM users_leech_stats"
	torrentSQL := "SELECT TorrentID, Snatched, Balance, Seeders, Leechers FROM torrents_leech_stats"
	swarmSQL := "SELECT fid, COALESCE(SUM(remaining = 0), 0), COALESCE(SUM(remaining > 0), 0) FROM xbt_files_users WHERE active = 1 GROUP BY fid"
	if siteName == SiteUNIT3D {
		userSQL = "SELECT id, uploaded, downloaded FROM users"
		torrentSQL = "SELECT id, times_completed, COALESCE(balance, 0), seeders, leechers FROM torrents"
		swarmSQL = "SELECT torrent_id, COALESCE(SUM(seeder), 0), COALESCE(SUM(NOT seeder), 0) FROM peers WHERE active = 1 GROUP BY torrent_id"
	}
	bad := 0
	report := func(format string, args ...any) {
		if bad++; bad <= 10 {
			t.Errorf(format, args...)
		}
	}
	scan3 := func(q string, f func(id, a, b int64)) {
		rs, err := e.db.QueryContext(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		defer rs.Close()
		for rs.Next() {
			var id, a, b int64
			if err := rs.Scan(&id, &a, &b); err != nil {
				t.Fatal(err)
			}
			f(id, a, b)
		}
	}
	scan3(userSQL, func(id, up, down int64) {
		if up != want.up[id] || down != want.down[id] {
			report("member %d: %d up, %d down; want %d, %d", id, up, down, want.up[id], want.down[id])
		}
	})
	swarm := map[int64][2]int64{}
	scan3(swarmSQL, func(id, s, l int64) { swarm[id] = [2]int64{s, l} })
	rs, err := e.db.QueryContext(ctx, torrentSQL)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	for rs.Next() {
		var id, snatched, balance, seeders, leechers int64
		if err := rs.Scan(&id, &snatched, &balance, &seeders, &leechers); err != nil {
			t.Fatal(err)
		}
		if snatched != want.snatches[id] || balance != want.balance[id] {
			report("torrent %d: %d snatches, balance %d; want %d, %d", id, snatched, balance, want.snatches[id], want.balance[id])
		}
		if sw := swarm[id]; seeders != sw[0] || leechers != sw[1] {
			report("torrent %d: %d seeders, %d leechers; its active peer rows say %d, %d", id, seeders, leechers, sw[0], sw[1])
		}
	}
	if n := e.count(t, "SELECT COUNT(*) FROM ratioguard_writeback_events"); n != want.applied {
		t.Errorf("%d event ids claimed; want %d", n, want.applied)
	}
	checkAgainstLedger(ctx, t, e, k, ends, userSQL)
}

// checkAgainstLedger runs the ledger over the same topic and requires every
// member's credited totals in the site to equal what the ledger credited
// them on the torrents the site knows.
func checkAgainstLedger(ctx context.Context, t *testing.T, e *env, k testenv.KafkaTopic, ends map[int32]int64, userSQL string) {
	t.Helper()
	lctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- consumer.Run(lctx, consumer.Config{Brokers: k.Brokers, Topic: k.Topic, Group: testenv.UniqueName("ledger"),
			Log: slog.New(slog.DiscardHandler)}, ledger.New(e.pg.Pool, 0, slog.New(slog.DiscardHandler)))
	}()
	err := ingesttest.WaitCaughtUp(ctx, ends, func(ctx context.Context) (map[int32]int64, error) {
		return ledger.StoredOffsets(ctx, e.pg.Pool, k.Topic)
	})
	stop()
	if rerr := <-done; err == nil {
		err = rerr
	}
	if err != nil {
		t.Fatalf("ledger over the same topic: %v", err)
	}
	rs, err := e.pg.Pool.Query(ctx, `SELECT u.site_id, sum(l.credited_uploaded)::bigint, sum(l.credited_downloaded)::bigint
		FROM ledger_user_torrents l JOIN users u ON u.id = l.user_id JOIN torrents t ON t.id = l.torrent_id
		WHERE u.site_id IS NOT NULL AND t.site_id IS NOT NULL GROUP BY u.site_id`)
	if err != nil {
		t.Fatal(err)
	}
	credited := map[int64][2]int64{}
	for rs.Next() {
		var id, up, down int64
		if err := rs.Scan(&id, &up, &down); err != nil {
			t.Fatal(err)
		}
		credited[id] = [2]int64{up, down}
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	rows, err := e.db.QueryContext(ctx, userSQL)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	members, bad := 0, 0
	for rows.Next() {
		var id, up, down int64
		if err := rows.Scan(&id, &up, &down); err != nil {
			t.Fatal(err)
		}
		members++
		if c := credited[id]; c != [2]int64{up, down} {
			if bad++; bad <= 10 {
				t.Errorf("member %d: site %d up, %d down; the ledger credited %d, %d", id, up, down, c[0], c[1])
			}
		}
	}
	if members == 0 || len(credited) == 0 {
		t.Fatalf("nothing compared: %d site members, %d credited by the ledger", members, len(credited))
	}
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
