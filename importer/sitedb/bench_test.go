package sitedb

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/ratioguard/ratioguard/importer/site"
	"github.com/ratioguard/ratioguard/internal/testenv"
	"github.com/ratioguard/ratioguard/tracker/control"
)

// fillUnit3d writes members members (every tenth invited by the one
// before, a few groups, snatches completed history rows and an active peer
// each) and torrents torrents (a third with a promotion) into a UNIT3D
// database, in multi-row INSERTs.
func fillUnit3d(b *testing.B, db *sql.DB, members, torrents, snatches int) {
	b.Helper()
	exec := func(q string) {
		if _, err := db.Exec(q); err != nil {
			b.Fatalf("%.200s: %v", q, err)
		}
	}
	exec("INSERT INTO `groups` (id, name, slug) VALUES (1, 'User', 'user'), (2, 'Power User', 'power-user'), (3, 'Uploader', 'uploader'), (4, 'Banned', 'banned')")
	const batch = 2000
	var rows []string
	flush := func(head string) {
		if len(rows) > 0 {
			exec(head + strings.Join(rows, ","))
			rows = rows[:0]
		}
	}
	for i := 1; i <= members; i++ {
		rows = append(rows, fmt.Sprintf("(%d, 'member%06d', 'Pk%030d', %d, '2021-01-01 00:00:00')", i, i, i, 1+i%4))
		if len(rows) == batch || i == members {
			flush("INSERT INTO users (id, username, passkey, group_id, created_at) VALUES ")
		}
	}
	for i := 2; i <= members; i += 10 {
		rows = append(rows, fmt.Sprintf("(%d, %d)", i-1, i))
	}
	flush("INSERT INTO invites (user_id, accepted_by) VALUES ")
	exec(fmt.Sprintf("UPDATE users SET can_download = 0 WHERE id %% %d = 0", members/500))
	for i := 1; i <= 1000; i++ {
		rows = append(rows, fmt.Sprintf("(%d, %d)", 1+i*7%members, 1+i*13%torrents))
	}
	flush("INSERT INTO freeleech_tokens (user_id, torrent_id) VALUES ")
	exec("INSERT INTO blacklist_clients (name, peer_id_prefix) VALUES ('Transmission', '-TR'), ('BitComet', '-BC')")
	for i := 1; i <= torrents; i++ {
		free, double := 0, 0
		switch i % 6 {
		case 1:
			free = 100
		case 2:
			double = 1
		}
		rows = append(rows, fmt.Sprintf("(%d, 'Torrent %d', %d, %d, %d, %d, 1, '2022-02-02 00:00:00', UNHEX('%x'))",
			i, i, 1<<20+i, 1+i%members, free, double, hash(i)))
		if len(rows) == batch || i == torrents {
			flush("INSERT INTO torrents (id, name, size, user_id, free, doubleup, status, created_at, info_hash) VALUES ")
		}
	}
	exec("UPDATE users SET uploaded = id * 1000000000, downloaded = id * 500000000, seedbonus = id / 10")
	for u := 1; u <= members; u++ {
		for k := 0; k < snatches; k++ {
			rows = append(rows, fmt.Sprintf("(%d, %d, 'qBittorrent', %d, %d, %d, %d, 1, 1, %d, 0, '2026-11-30 00:00:00', '2026-10-01 00:00:00')",
				u, 1+(u*snatches+k)%torrents, k*1000, k*1000, 1<<20, 1<<20, 3600*k))
		}
		if len(rows) >= batch || u == members {
			flush("INSERT INTO history (user_id, torrent_id, agent, uploaded, client_uploaded, downloaded, client_downloaded, seeder, active, seedtime, immune, updated_at, completed_at) VALUES ")
		}
	}
	for u := 1; u <= members; u++ {
		rows = append(rows, fmt.Sprintf("(UNHEX('%x'), UNHEX('C0A80001'), 51413, 'qBittorrent', 1000, %d, 0, 1, '2026-12-01 00:00:00', %d, %d, 1, 1)",
			fmt.Sprintf("-qB4650-%012d", u), 1<<20, 1+(u*snatches)%torrents, u))
		if len(rows) == batch || u == members {
			flush("INSERT INTO peers (peer_id, ip, port, agent, uploaded, downloaded, `left`, seeder, updated_at, torrent_id, user_id, active, visible) VALUES ")
		}
	}
}

// BenchmarkCutover times `import site --from unit3d` of 10,000 members and
// 100,000 torrents into an empty Postgres (read the site's database, map
// and check the records, one import transaction, the control entries:
// 4 groups, 2,500 members in the banned one, 500 who may not leech, 1,000
// freeleech tokens, 2 blacklisted clients; every member's opening balance,
// 5 completed history rows and an active peer), then the resync that finds
// nothing changed. Run with -benchtime=1x: each iteration is one
// whole cutover into a fresh database.
func BenchmarkCutover(b *testing.B) {
	const members, torrents, snatches = 10_000, 100_000, 5
	db := siteDB(b, "unit3d")
	t0 := time.Now()
	fillUnit3d(b, db, members, torrents, snatches)
	b.Logf("filled MariaDB with %d members and %d torrents in %.1f s", members, torrents, time.Since(t0).Seconds())
	ctx := context.Background()
	for b.Loop() {
		b.StopTimer()
		pg := testenv.Postgres(b)
		b.StartTimer()
		var total, first time.Duration
		for pass := range 2 {
			t0 := time.Now()
			snap, err := Read(ctx, db, Unit3d, nil)
			if err != nil {
				b.Fatal(err)
			}
			read := time.Since(t0)
			f, _, err := snap.File(false)
			if err != nil {
				b.Fatal(err)
			}
			check := time.Since(t0) - read
			s, err := site.Import(ctx, pg.Pool, f, site.Options{Changes: true})
			if err != nil {
				b.Fatal(err)
			}
			t1 := time.Now()
			cs, err := ApplyControl(ctx, control.New(pg.Pool, nil, slog.New(slog.DiscardHandler)), pg.Pool, snap, false, nil)
			if err != nil || len(cs.Refused) > 0 {
				b.Fatal(err, cs.Refused)
			}
			ctl := time.Since(t1)
			took := time.Since(t0)
			if pass == 0 {
				first = took
				if s.Members.Created != members || s.Torrents.Created != torrents || s.History.Openings != members ||
					s.History.Snatches != members*snatches || s.History.Peers != members {
					b.Fatalf("cutover: %+v %+v %+v", s.Members, s.Torrents, s.History)
				}
			} else if s.Members.Unchanged != members || s.Torrents.Unchanged != torrents || len(s.Changes) != 0 {
				b.Fatalf("resync: %+v %+v, %d changes", s.Members, s.Torrents, len(s.Changes))
			}
			total += took
			b.Logf("pass %d: read %.2f s, map and check %.2f s, import %.2f s, control %.2f s (%d changes), total %.2f s", pass+1,
				read.Seconds(), check.Seconds(), s.Seconds, ctl.Seconds(), len(cs.Changes), took.Seconds())
		}
		b.ReportMetric(first.Seconds(), "cutover-s")
		b.ReportMetric((total - first).Seconds(), "resync-s")
	}
}
