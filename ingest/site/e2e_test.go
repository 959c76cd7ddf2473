package site

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ratioguard/ratioguard/ingest/consumer"
	"github.com/ratioguard/ratioguard/ingest/ingesttest"
	"github.com/ratioguard/ratioguard/internal/testenv"
	"github.com/ratioguard/ratioguard/tracker"
	"github.com/ratioguard/ratioguard/tracker/core"
	"github.com/ratioguard/ratioguard/tracker/stream"
)

// TestTrackerToSite runs the whole path for each site: announces answered
// by the tracker over HTTP → Kafka → the write-back → the site's tables,
// beside the ledger over the same topic. Member 1 seeds torrent 1 (free+2x), member 2
// downloads it, completes and stays; member 2 downloads torrent 2 with a
// freeleech token. The site gets the promotion-credited totals (equal to
// the ledger's), the swarm, the snatch, and on Gazelle the token's download
// and its expiry, on UNIT3D the history rows.
func TestTrackerToSite(t *testing.T) {
	for _, s := range []string{SiteGazelle, SiteUNIT3D} {
		t.Run(s, func(t *testing.T) { trackerToSite(t, s) })
	}
}

func trackerToSite(t *testing.T, siteName string) {
	e := newEnv(t, siteName, 2, 2, nil, nil)
	k := testenv.Kafka(t, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const size = 1 << 30
	if _, err := e.pg.Pool.Exec(ctx, `UPDATE torrents SET promotion = 'free+2x', promo_download_percent = 0, promo_upload_percent = 200 WHERE id = 1`); err != nil {
		t.Fatal(err)
	}
	if _, err := e.pg.Pool.Exec(ctx, `INSERT INTO freeleech_tokens (torrent_id, user_id, expires_on_completion) VALUES (2, 2, true)`); err != nil {
		t.Fatal(err)
	}
	passkeys := map[int]string{}
	hashes := map[int][]byte{}
	for id := 1; id <= 2; id++ {
		var pk string
		var ih []byte
		if err := e.pg.Pool.QueryRow(ctx, `SELECT u.passkey, t.info_hash FROM users u, torrents t WHERE u.id = $1 AND t.id = $1`, id).Scan(&pk, &ih); err != nil {
			t.Fatal(err)
		}
		passkeys[id], hashes[id] = pk, ih
	}

	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	reg := prometheus.NewRegistry()
	producer, err := stream.New(ctx, stream.Config{Brokers: k.Brokers, Topic: k.Topic, SpoolDir: filepath.Join(t.TempDir(), "spool")}, reg, log)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := tracker.New(tracker.Config{Core: core.Config{Interval: 30 * time.Minute, MinInterval: time.Second}}, e.pg.Pool, producer, reg, log)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tctx, stopTracker := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(tctx, ln) }()

	announce := func(user, torrent int, peer, event string, up, down, left uint64) {
		t.Helper()
		q := url.Values{"info_hash": {string(hashes[torrent])}, "peer_id": {peer}, "port": {"6881"}, "compact": {"1"},
			"uploaded": {fmt.Sprint(up)}, "downloaded": {fmt.Sprint(down)}, "left": {fmt.Sprint(left)}}
		if event != "" {
			q.Set("event", event)
		}
		u := "http://" + ln.Addr().String() + "/" + passkeys[user] + "/announce?" + q.Encode()
		agent := "qBittorrent/4.6.5"
		if strings.HasPrefix(peer, "-TR") {
			agent = "Transmission/3.00"
		}
		for {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("User-Agent", agent)
			resp, err := http.DefaultClient.Do(req)
			if err == nil {
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if strings.Contains(string(body), "failure reason") {
					if strings.Contains(string(body), "not ready") || strings.Contains(string(body), "starting") {
						time.Sleep(100 * time.Millisecond)
						continue
					}
					t.Fatalf("announce %s: %s", u, body)
				}
				return
			}
			if ctx.Err() != nil {
				t.Fatalf("announce: %v", err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	const seeder, leecher, leecher2 = "-qB4650-alicealice01", "-TR3000-bobbobbob001", "-TR3000-bobbobbob002"
	const announces = 8
	announce(1, 1, seeder, "started", 0, 0, 0)
	announce(2, 1, leecher, "started", 0, 0, size)
	announce(2, 1, leecher, "", 0, 600_000, size-600_000)
	announce(1, 1, seeder, "", 600_000, 0, 0)
	announce(2, 1, leecher, "completed", 0, size, 0)
	announce(1, 1, seeder, "stopped", size, 0, 0)
	announce(2, 2, leecher2, "started", 0, 0, size)
	announce(2, 2, leecher2, "completed", 0, size, 0)

	stopTracker()
	if err := <-served; err != nil {
		t.Fatalf("serve: %v", err)
	}
	// A write that failed (a topic just created) went to the spool: the
	// producer replays it while it runs.
	for st := producer.Stats(); st.SpoolRecords > 0 || st.Queued > 0; st = producer.Stats() {
		if ctx.Err() != nil {
			t.Fatalf("producer never drained: %+v", st)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if st := producer.Stats(); st.Published != announces || st.Dropped != 0 {
		t.Fatalf("producer %+v; want %d published, none dropped", st, announces)
	}
	if err := producer.Close(ctx); err != nil {
		t.Fatalf("close the producer: %v", err)
	}
	// Every announce answered is one event on the topic (a new topic's
	// offsets may be listed before its metadata settles: ask again).
	var ends map[int32]int64
	for total := int64(0); total < announces; {
		if ends, err = ingesttest.EndOffsets(ctx, k.Brokers, k.Topic); err != nil {
			t.Fatal(err)
		}
		total = 0
		for _, o := range ends {
			total += max(o, 0)
		}
		if total < announces {
			if ctx.Err() != nil {
				t.Fatalf("%d events on the topic; want %d", total, announces)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	wctx, stopWriteback := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- consumer.Run(wctx, consumer.Config{Brokers: k.Brokers, Topic: k.Topic, Linger: 100 * time.Millisecond,
			Log: slog.New(slog.DiscardHandler)}, e.w)
	}()
	err = ingesttest.WaitCaughtUp(ctx, ends, func(ctx context.Context) (map[int32]int64, error) {
		out := map[int32]int64{}
		for p := range ends {
			n, err := e.w.Resume(ctx, k.Topic, p)
			if err != nil {
				return nil, err
			}
			out[p] = n
		}
		return out, nil
	})
	stopWriteback()
	if rerr := <-done; err == nil {
		err = rerr
	}
	if err != nil {
		t.Fatal(err)
	}

	if st := e.w.Stats(); st.Applied != announces {
		t.Errorf("write-back applied %d announces; want %d (%+v)", st.Applied, announces, st)
	}
	userSQL := "SELECT UserID, Uploaded, Downloaded FROM users_leech_stats"
	torrentSQL := "SELECT Seeders, Leechers, Snatched, Balance FROM torrents_leech_stats WHERE TorrentID = ?"
	if siteName == SiteUNIT3D {
		userSQL = "SELECT id, uploaded, downloaded FROM users"
		torrentSQL = "SELECT seeders, leechers, times_completed, balance FROM torrents WHERE id = ?"
	}
	var up, down int64
	credited := map[int64][2]int64{}
	rs, err := e.db.QueryContext(ctx, userSQL)
	if err != nil {
		t.Fatal(err)
	}
	for rs.Next() {
		var id int64
		if err := rs.Scan(&id, &up, &down); err != nil {
			t.Fatal(err)
		}
		credited[id] = [2]int64{up, down}
	}
	rs.Close()
	if c := credited[siteUser(1)]; c != [2]int64{2 * size, 0} {
		t.Errorf("member 1: %d up, %d down; want %d (2x), 0", c[0], c[1], 2*size)
	}
	if c := credited[siteUser(2)]; c != [2]int64{0, 0} {
		t.Errorf("member 2: %d up, %d down; want 0, 0 (freeleech and a token)", c[0], c[1])
	}
	var seeders, leechers, snatched, balance int64
	e.row(t, torrentSQL, []any{siteTorrent(1)}, &seeders, &leechers, &snatched, &balance)
	if seeders != 1 || leechers != 0 || snatched != 1 || balance != 0 {
		t.Errorf("torrent 1: seeders %d leechers %d snatched %d balance %d; want 1 0 1 0", seeders, leechers, snatched, balance)
	}
	if siteName == SiteUNIT3D {
		var actDown, cliDown int64
		var seeder bool
		e.row(t, "SELECT downloaded, actual_downloaded, client_downloaded, seeder FROM history WHERE user_id = ? AND torrent_id = ?",
			[]any{siteUser(2), siteTorrent(1)}, &down, &actDown, &cliDown, &seeder)
		if down != 0 || actDown != size || cliDown != size || !seeder {
			t.Errorf("member 2's history on torrent 1: credited %d, actual %d, client %d, seeder %v; want 0, %d, %d, true", down, actDown, cliDown, seeder, size, size)
		}
		checkAgainstLedger(ctx, t, e, k, ends, userSQL)
		return
	}
	var tokDown int64
	e.row(t, "SELECT Downloaded FROM users_freeleeches WHERE UserID = ? AND TorrentID = ?", []any{siteUser(2), siteTorrent(2)}, &tokDown)
	if tokDown != size {
		t.Errorf("token download %d; want %d", tokDown, size)
	}
	if n := e.count(t, "SELECT COUNT(*) FROM ratioguard_token_expiry WHERE user_id = ? AND torrent_id = ?", siteUser(2), siteTorrent(2)); n != 1 {
		t.Errorf("%d expiries queued for member 2's token; want 1", n)
	}
	if n := e.count(t, "SELECT COUNT(*) FROM xbt_snatched"); n != 2 {
		t.Errorf("%d snatches; want 2", n)
	}
	checkAgainstLedger(ctx, t, e, k, ends, userSQL)
}
