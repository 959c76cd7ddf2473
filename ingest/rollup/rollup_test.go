package rollup

import (
	"context"
	"testing"
	"time"

	"github.com/ratioguard/ratioguard/internal/testenv"
)

// rawRow is the part of an announce the rollups read.
type rawRow struct {
	user, torrent uint64
	at            time.Time
	network       byte
	up, down      uint64
	refused       bool
}

func insertRaw(t *testing.T, ctx context.Context, ch testenv.CH, rows []rawRow) {
	t.Helper()
	b, err := ch.Conn.PrepareBatch(ctx, "INSERT INTO announces (event_id, user_id, torrent_id, time, network, user_agent, delta_uploaded, delta_downloaded, credited_uploaded, result)")
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rows {
		id := make([]byte, 16)
		id[0], id[15] = byte(i>>8), byte(i)
		net := make([]byte, 16)
		net[0] = r.network
		result := int8(1)
		if r.refused {
			result = 2
		}
		if err := b.Append(id, r.user, r.torrent, r.at, net, "qBittorrent/4.6.2", r.up, r.down, 2*r.up, result); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Send(); err != nil {
		t.Fatal(err)
	}
}

type sums struct{ uh, th, unh, up, credited, networks uint64 }

func rollupSums(t *testing.T, ctx context.Context, ch testenv.CH) sums {
	t.Helper()
	var s sums
	q := func(sql string, dst ...any) {
		if err := ch.Conn.QueryRow(ctx, sql).Scan(dst...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	q("SELECT toUInt64(countMerge(announces)), toUInt64(sumMerge(delta_uploaded)), toUInt64(sumMerge(credited_uploaded)) FROM user_hour", &s.uh, &s.up, &s.credited)
	q("SELECT toUInt64(countMerge(announces)) FROM torrent_hour", &s.th)
	q("SELECT toUInt64(countMerge(announces)) FROM user_network_hour", &s.unh)
	q("SELECT toUInt64(sum(n)) FROM (SELECT uniqExactMerge(networks) AS n FROM user_hour GROUP BY user_id, hour)", &s.networks)
	return s
}

func TestRefreshBuildsOnlyStaleHoursAndIsIdempotent(t *testing.T) {
	ch := testenv.ClickHouse(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	h0 := time.Date(2025, 6, 2, 10, 0, 0, 0, time.UTC)
	insertRaw(t, ctx, ch, []rawRow{
		{user: 1, torrent: 10, at: h0.Add(5 * time.Minute), network: 1, up: 100},
		{user: 1, torrent: 10, at: h0.Add(35 * time.Minute), network: 2, up: 50},
		{user: 2, torrent: 11, at: h0.Add(59 * time.Minute), network: 3, down: 7, refused: true},
		{user: 2, torrent: 11, at: h0.Add(61 * time.Minute), network: 3, up: 1},
	})
	b := New(ch.Conn, nil)
	t.Cleanup(func() { _ = b.Close(context.Background()) })

	stale, err := b.Stale(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(stale) != 2 || !stale[0].Hour.Equal(h0) || stale[0].RawRows != 3 || stale[0].RawAccepted != 2 || stale[0].UserHour != 0 {
		t.Fatalf("stale before the first build = %+v, want hours 10:00 (3 rows, 2 accepted) and 11:00", stale)
	}
	res, err := b.Refresh(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Stale != 2 || res.Rebuilt != 6 {
		t.Fatalf("first refresh = %+v, want 2 hours × 3 rollups", res)
	}
	got := rollupSums(t, ctx, ch)
	// networks: user 1 has two at 10:00, user 2 one at 10:00 and one at 11:00.
	if want := (sums{uh: 4, th: 3, unh: 4, up: 151, credited: 302, networks: 4}); got != want {
		t.Fatalf("rollups = %+v, want %+v", got, want)
	}

	// Nothing new: nothing rebuilt, nothing changed.
	if res, err := b.Refresh(ctx, time.Time{}); err != nil || res.Rebuilt != 0 || res.Stale != 0 {
		t.Fatalf("second refresh = %+v, %v; want no work", res, err)
	}

	// A late row in 10:00 and a new hour: only those two hours are rebuilt,
	// and the late row is counted once (the hour is replaced, not added to).
	insertRaw(t, ctx, ch, []rawRow{
		{user: 3, torrent: 10, at: h0.Add(10 * time.Minute), network: 9, up: 1000},
		{user: 3, torrent: 12, at: h0.Add(3 * time.Hour), network: 9, up: 5},
	})
	res, err = b.Refresh(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Stale != 2 || res.Rebuilt != 6 || !res.Latest.Equal(h0.Add(3*time.Hour)) {
		t.Fatalf("refresh after late data = %+v, want hours 10:00 and 13:00 rebuilt", res)
	}
	got = rollupSums(t, ctx, ch)
	if want := (sums{uh: 6, th: 5, unh: 6, up: 1156, credited: 2312, networks: 6}); got != want {
		t.Fatalf("rollups after late data = %+v, want %+v", got, want)
	}

	// A refresh limited to recent hours does not look at 10:00.
	insertRaw(t, ctx, ch, []rawRow{{user: 4, torrent: 10, at: h0.Add(time.Minute), network: 4, up: 3}})
	if res, err := b.Refresh(ctx, h0.Add(time.Hour)); err != nil || res.Stale != 0 {
		t.Fatalf("recent refresh = %+v, %v; want 10:00 left for the full one", res, err)
	}
	if res, err := b.Refresh(ctx, time.Time{}); err != nil || res.Rebuilt != 3 {
		t.Fatalf("full refresh = %+v, %v; want 10:00 rebuilt", res, err)
	}
}

func TestInterruptedBuildLeavesRollupsConsistent(t *testing.T) {
	ch := testenv.ClickHouse(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	h0 := time.Date(2025, 6, 2, 10, 0, 0, 0, time.UTC)
	insertRaw(t, ctx, ch, []rawRow{{user: 1, torrent: 10, at: h0, network: 1, up: 100}})
	first := New(ch.Conn, nil)
	if _, err := first.Refresh(ctx, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := first.Close(ctx); err != nil {
		t.Fatal(err)
	}
	// A builder that dies after filling its staging table and before the
	// swap: its staging rows must never reach the rollups.
	insertRaw(t, ctx, ch, []rawRow{{user: 2, torrent: 10, at: h0.Add(time.Minute), network: 2, up: 7}})
	dead := New(ch.Conn, nil)
	staging, err := dead.staging(ctx, "user_hour")
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.Conn.Exec(ctx, "INSERT INTO "+staging+" (user_id, hour, announces) SELECT user_id, toStartOfHour(time), countState() FROM announces GROUP BY user_id, toStartOfHour(time)"); err != nil {
		t.Fatal(err)
	}
	second := New(ch.Conn, nil)
	res, err := second.Refresh(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Rebuilt != 3 {
		t.Fatalf("refresh = %+v, want the hour's 3 rollups rebuilt", res)
	}
	if got := rollupSums(t, ctx, ch); got.uh != 2 || got.up != 107 || got.th != 2 || got.unh != 2 {
		t.Fatalf("rollups = %+v, want 2 announces, 107 bytes up", got)
	}
	if err := second.Close(ctx); err != nil {
		t.Fatal(err)
	}
	var left uint64
	if err := ch.Conn.QueryRow(ctx, "SELECT count() FROM system.tables WHERE database = currentDatabase() AND name LIKE 'rollup_build_%'").Scan(&left); err != nil {
		t.Fatal(err)
	}
	if left != 1 { // the dead builder's table: younger than an hour, kept
		t.Fatalf("%d staging tables left, want only the dead builder's", left)
	}
}

func TestRunPausesLongerAfterLongRefreshes(t *testing.T) {
	c := RunConfig{}
	c.defaults()
	if got := c.pause(time.Second); got != 15*time.Second {
		t.Fatalf("pause after 1s = %v, want the 15s interval", got)
	}
	if got := c.pause(20 * time.Second); got != 60*time.Second {
		t.Fatalf("pause after 20s = %v, want 60s (25%% duty)", got)
	}
}
