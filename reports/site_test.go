package reports_test

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/ratioguard/ratioguard/ingest/rollup"
	"github.com/ratioguard/ratioguard/internal/testenv"
	"github.com/ratioguard/ratioguard/reports"
)

// site is a small site for the console's pages: the fixture's member
// "cheater" (id 1, its open faked_upload report naming torrent 9) with an
// inviter (bob), an invitee (carol) and a neighbour on the same /24 (dave);
// torrent 9 "Big.Buck.Bunny.1080p" (1 GiB); the cheater's ledger,
// adjustment, ratio watch, hit-and-run warning, seedbox and allowlist; and
// ClickHouse announces over the last days (with a day missing).
type site struct {
	fixture
	ch    testenv.CH
	today time.Time // 00:00 UTC today
}

const (
	gib          = int64(1) << 30
	siteTorrent  = 9
	siteTorrentN = "Big.Buck.Bunny.1080p"
)

func setupSite(t *testing.T) site {
	t.Helper()
	ch := testenv.ClickHouse(t)
	f := setupWith(t, reports.Options{Activity: reports.NewActivity(ch.Conn)})
	ctx := context.Background()
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := f.pg.Pool.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	exec(`INSERT INTO users (name, passkey, class) VALUES ('bob', 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb', 'elite')`)                    // 2
	exec(`INSERT INTO users (name, passkey, invited_by, can_leech) VALUES ('carol', 'cccccccccccccccccccccccccccccccc', 1, false)`) // 3
	exec(`INSERT INTO users (name, passkey) VALUES ('dave', 'dddddddddddddddddddddddddddddddd')`)                                   // 4
	exec(`UPDATE users SET invited_by = 2 WHERE id = 1`)
	exec(`INSERT INTO torrents (id, info_hash, name, size) VALUES ($1, decode('00112233445566778899aabbccddeeff00112233', 'hex'), $2, $3)`,
		siteTorrent, siteTorrentN, gib)
	exec(`INSERT INTO ledger_user_totals (user_id, raw_uploaded, raw_downloaded, credited_uploaded, credited_downloaded, seedtime_seconds)
		VALUES (1, $1, $2, $3, $2, 864000)`, 40*gib, 2*gib, 50*gib)
	exec(`INSERT INTO ledger_user_torrents (user_id, torrent_id, raw_uploaded, credited_uploaded, snatched_at, first_announce_at, last_announce_at, last_left)
		VALUES (1, $1, $2, $2, now() - interval '3 days', now() - interval '5 days', now() - interval '10 minutes', 0)`, siteTorrent, 40*gib)
	exec(`INSERT INTO ledger_user_torrents (user_id, torrent_id, raw_downloaded, first_announce_at, last_announce_at, last_left)
		VALUES (4, $1, 0, now() - interval '2 days', now() - interval '5 minutes', 1000)`, siteTorrent)
	exec(`INSERT INTO ledger_adjustments (user_id, torrent_id, credited_uploaded, reason, actor) VALUES (1, $1, $2, 'manual fix of a client bug', 'staff:adm')`,
		siteTorrent, -3*gib)
	exec(`INSERT INTO enforce_ratio_watch (user_id, state, started_at, ends_at, downloaded_at_start, required_ratio)
		VALUES (1, 'watch', now() - interval '1 day', now() + interval '13 days', 0, 0.6)`)
	exec(`INSERT INTO enforce_hnr_warnings (user_id, torrent_id, issued_at, deadline, expires_at, seedtime_seconds)
		VALUES (1, $1, now() - interval '1 day', now() + interval '2 days', now() + interval '30 days', 3600)`, siteTorrent)
	exec(`INSERT INTO seedbox_ranges (user_id, cidr, note) VALUES (1, '203.0.113.0/24', 'hetzner box')`)
	exec(`INSERT INTO detector_allowlist (kind, cidr, reason, created_by) VALUES ('network', '203.0.113.0/24', 'declared seedbox host', 'staff:adm')`)
	// Torrent 10: last seeded by bob 20 days ago, snatched by carol, dave waiting.
	exec(`INSERT INTO torrents (id, info_hash, name, size, created_at) VALUES (10, decode('ffeeddccbbaa99887766554433221100ffeeddcc', 'hex'), 'Dead.Swarm.Documentary', $1, now() - interval '60 days')`, 2*gib)
	exec(`INSERT INTO ledger_user_torrents (user_id, torrent_id, first_announce_at, last_announce_at, last_left) VALUES (2, 10, now() - interval '50 days', now() - interval '20 days', 0)`)
	exec(`INSERT INTO ledger_user_torrents (user_id, torrent_id, snatched_at, first_announce_at, last_announce_at, last_left) VALUES (3, 10, now() - interval '40 days', now() - interval '45 days', now() - interval '25 days', 5)`)
	exec(`INSERT INTO ledger_user_torrents (user_id, torrent_id, first_announce_at, last_announce_at, last_left) VALUES (4, 10, now() - interval '2 days', now() - interval '1 hour', 1000)`)
	exec(`INSERT INTO audit_log (actor, action, subject_kind, subject_id, reason) VALUES ('enforce/ratio', 'ratio_watch.start', 'user', '1', 'ratio 0.40 below 0.60')`)

	today := time.Now().UTC().Truncate(24 * time.Hour)
	b, err := ch.Conn.PrepareBatch(ctx, `INSERT INTO announces (event_id, time, user_id, torrent_id, peer_id, ip, network, user_agent,
		event, delta_uploaded, delta_downloaded, left, seeders, leechers, result)`)
	if err != nil {
		t.Fatal(err)
	}
	seq := 0
	add := func(day int, hour int, user uint64, ip, ua, peer string, up, down uint64, left uint64) {
		t.Helper()
		seq++
		id := make([]byte, 16)
		id[14], id[15] = byte(seq>>8), byte(seq)
		a := netip.MustParseAddr(ip)
		bits := 64
		if a.Is4() {
			bits = 24
		}
		net := netip.PrefixFrom(a, bits).Masked().Addr()
		ip16, net16 := a.As16(), net.As16()
		pid := []byte((peer + "xxxxxxxxxxxxxxxxxxxx")[:20])
		if err := b.Append(id, today.AddDate(0, 0, -day).Add(time.Duration(hour)*time.Hour), user, uint64(siteTorrent), pid,
			string(ip16[:]), string(net16[:]), ua, int8(0), up, down, left, uint32(1), uint32(1), int8(1)); err != nil {
			t.Fatal(err)
		}
	}
	// The cheater on days 5, 3 and 2 before today (day 4 missing); 40 GiB
	// claimed on day 3 when the only leecher (dave) downloaded nothing, 1 GiB
	// on day 5 with no leecher at all: two closed days out of balance.
	add(5, 10, 1, "198.51.100.7", "qBittorrent/4.6.5", "-qB4650-", uint64(gib), 0, 0)
	add(3, 10, 1, "198.51.100.7", "qBittorrent/4.6.5", "-qB4650-", uint64(40*gib), 0, 0)
	add(3, 11, 4, "198.51.100.9", "Transmission/4.0.5", "-TR4050-", 0, 0, uint64(gib))
	add(2, 10, 1, "2001:db8:1:2::5", "qBittorrent/4.6.5", "-qB4650-", uint64(gib), 0, 0)
	add(2, 11, 4, "198.51.100.9", "Transmission/4.0.5", "-TR4050-", 0, uint64(gib), 0)
	if err := b.Send(); err != nil {
		t.Fatal(err)
	}
	// The hourly rollups, as ingest keeps them.
	if _, err := rollup.New(ch.Conn, nil).Refresh(ctx, time.Time{}); err != nil {
		t.Fatal(err)
	}
	return site{fixture: f, ch: ch, today: today}
}
