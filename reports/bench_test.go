package reports_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sort"
	"testing"
	"time"

	"github.com/ratioguard/ratioguard/ingest/rollup"
	"github.com/ratioguard/ratioguard/internal/testenv"
	"github.com/ratioguard/ratioguard/reports"
)

// BenchmarkConsolePages: the staff console on a site of 10,000 members,
// 1,000 torrents and 100,000 reports (2,000 open), with 30 days of
// announces in ClickHouse (every member twice a day; the member under
// test, #1, hourly on three torrents from ten addresses and three clients).
// Each sub-benchmark fetches one page over HTTP as a signed-in moderator
// and reports its 95th percentile; the report page (unchanged by the
// console work) is the baseline measured in the same run.
func BenchmarkConsolePages(b *testing.B) {
	store, ch, token := benchSite(b)
	srv, err := reports.NewServer(store, slog.New(slog.NewTextHandler(io.Discard, nil)), reports.Options{Activity: reports.NewActivity(ch.Conn)})
	if err != nil {
		b.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	client := &http.Client{Timeout: 30 * time.Second}
	fetch := func(b *testing.B, path string) {
		req, _ := http.NewRequest(http.MethodGet, hs.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || n < 1000 {
			b.Fatalf("%s: %d, %d bytes", path, resp.StatusCode, n)
		}
	}
	for _, c := range []struct{ name, path string }{
		{"report_page_baseline", "/reports/100000"},
		{"queue_open", "/"},
		{"queue_any_status_critical", "/?status=&severity=critical"},
		{"queue_member_filter", "/?status=&user=42"},
		{"member_page_30d", "/members/1"},
		{"member_api_30d", "/api/members/1"},
		{"member_page_quiet", "/members/5000"},
		{"torrent_page", "/torrents/1"},
		{"search_network", "/search?q=198.51.100.0%2F24"},
		{"audit_member", "/audit?subject_kind=user&subject_id=1"},
		{"watch_lists", "/watch"},
		{"dead_swarms", "/dead"},
	} {
		b.Run(c.name, func(b *testing.B) {
			fetch(b, c.path) // warm
			times := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				fetch(b, c.path)
				times = append(times, time.Since(t0))
			}
			b.StopTimer()
			sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
			b.ReportMetric(float64(times[len(times)*95/100].Microseconds())/1000, "p95-ms")
		})
	}
}

// benchSite builds the benchmark's site and returns its store, ClickHouse
// and a moderator's session token.
func benchSite(b testing.TB) (*reports.Store, testenv.CH, string) {
	ctx := context.Background()
	pg := testenv.Postgres(b)
	ch := testenv.ClickHouse(b)
	exec := func(sql string, args ...any) {
		b.Helper()
		if _, err := pg.Pool.Exec(ctx, sql, args...); err != nil {
			b.Fatalf("%s: %v", sql, err)
		}
	}
	exec(`INSERT INTO users (name, passkey, invited_by) SELECT 'member' || i, md5(i::text), CASE WHEN i > 1 THEN 1 + i % 50 END FROM generate_series(1, 10000) i`)
	exec(`INSERT INTO ledger_user_totals (user_id, raw_uploaded, raw_downloaded, credited_uploaded, credited_downloaded)
		SELECT i, i * 1073741824::numeric, (i % 97 + 1) * 1073741824::numeric, i * 1073741824::numeric, (i % 97 + 1) * 1073741824::numeric FROM generate_series(1, 10000) i`)
	exec(`INSERT INTO torrents (info_hash, name, size) SELECT decode(substr(md5(i::text) || md5(i::text), 1, 40), 'hex'), 'Torrent.' || i, 1073741824 FROM generate_series(1, 1000) i`)
	exec(`INSERT INTO ledger_user_torrents (user_id, torrent_id, raw_uploaded, snatched_at, first_announce_at, last_announce_at, last_left)
		SELECT 1 + i % 10000, 1 + i % 1000, i, now() - interval '3 days', now() - interval '30 days', now() - (i % 100) * interval '1 hour', i % 2
		FROM generate_series(1, 50000) i ON CONFLICT DO NOTHING`)
	exec(`INSERT INTO cheat_reports (detector, subject_kind, subject_id, window_start, window_end, score, severity, status, evidence, created_at, updated_at)
		SELECT CASE WHEN i % 50 = 0 THEN 'faked_upload' ELSE (ARRAY['faked_upload','multi_ip','leaked_passkey','ghost_leecher','cloud_leech','account_selling'])[1 + i % 6] END,
		       'user', CASE WHEN i % 50 = 0 THEN ((i / 50) % 10000 + 1)::text ELSE (1 + i % 10000)::text END,
		       now() - interval '2 hours', now() - interval '1 hour', (i % 100) / 100.0,
		       (ARRAY['low','medium','high','critical'])[1 + i % 4],
		       CASE WHEN i % 50 = 0 THEN 'open' WHEN i % 2 = 0 THEN 'confirmed' ELSE 'dismissed' END,
		       jsonb_build_object('summary', 'uploaded a lot', 'user_id', 1 + i % 10000,
		           'torrents', jsonb_build_array(jsonb_build_object('torrent_id', 1 + i % 1000, 'size', 1073741824, 'uploaded', 42949672960, 'downloaded', 0))),
		       now() - (100000 - i) * interval '1 minute', now() - (100000 - i) * interval '1 minute'
		FROM generate_series(1, 100000) i`)
	exec(`INSERT INTO audit_log (actor, action, subject_kind, subject_id, reason) SELECT 'enforce/ratio', 'ratio_watch.start', 'user', (1 + i % 10000)::text, 'below' FROM generate_series(1, 50000) i`)

	now := time.Now().UTC()
	batch, err := ch.Conn.PrepareBatch(ctx, `INSERT INTO announces (event_id, time, user_id, torrent_id, peer_id, ip, network, user_agent, delta_uploaded, delta_downloaded, seeders, leechers, result)`)
	if err != nil {
		b.Fatal(err)
	}
	seq := uint64(0)
	add := func(at time.Time, user, torrent uint64, ip netip.Addr, peer, ua string, up uint64) {
		seq++
		id := make([]byte, 16)
		for k := 0; k < 8; k++ {
			id[15-k] = byte(seq >> (8 * k))
		}
		ip16 := ip.As16()
		net16 := netip.PrefixFrom(ip, 24).Masked().Addr().As16()
		if err := batch.Append(id, at, user, torrent, []byte((peer + "xxxxxxxxxxxxxxxxxxxx")[:20]), string(ip16[:]), string(net16[:]), ua, up, up/2, uint32(3), uint32(2), int8(1)); err != nil {
			b.Fatal(err)
		}
	}
	for d := 0; d < 30; d++ {
		day := now.AddDate(0, 0, -d)
		for u := uint64(1); u <= 10000; u++ {
			ip := netip.AddrFrom4([4]byte{10, byte(u >> 8), byte(u), 1})
			add(day.Add(time.Duration(u%12)*time.Hour), u, 1+u%1000, ip, "-TR4050-", "Transmission/4.0.5", 1<<20)
			add(day.Add(time.Duration(12+u%12)*time.Hour), u, 1+(u+1)%1000, ip, "-TR4050-", "Transmission/4.0.5", 1<<20)
		}
		for h := 0; h < 24; h++ {
			for tor := uint64(1); tor <= 3; tor++ {
				ip := netip.AddrFrom4([4]byte{198, 51, 100, byte(h % 10)})
				add(day.Add(time.Duration(h)*time.Hour), 1, tor, ip, []string{"-qB4650-", "-DE2110-", "-lt0D80-"}[tor-1], "qBittorrent/4.6.5", 1<<30)
			}
		}
	}
	if err := batch.Send(); err != nil {
		b.Fatal(err)
	}
	if _, err := rollup.New(ch.Conn, nil).Refresh(ctx, time.Time{}); err != nil {
		b.Fatal(err)
	}

	store := reports.NewStore(pg.Pool)
	st, err := store.CreateStaff(ctx, "mod", "correct horse battery", "moderator")
	if err != nil {
		b.Fatal(err)
	}
	token, err := store.NewSession(ctx, st, time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	return store, ch, token
}
