package policy

import (
	"context"
	"io"
	"log/slog"
	"net/netip"
	"testing"
	"time"

	"github.com/ratioguard/ratioguard/internal/testenv"
	"github.com/ratioguard/ratioguard/tracker/core"
)

func eventually(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, within)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestSyncerLoadsListensAndSurvivesPostgresLoss(t *testing.T) {
	pg := testenv.Postgres(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const pk = "00112233445566778899aabbccddeeff"
	ih := [20]byte{1, 2, 3}
	if _, err := pg.Pool.Exec(ctx, `INSERT INTO users (name, passkey) VALUES ('alice', $1)`, pk); err != nil {
		t.Fatal(err)
	}
	if _, err := pg.Pool.Exec(ctx, `INSERT INTO torrents (info_hash, name, size, promotion, promo_download_percent, promo_upload_percent)
		VALUES ($1, 'linux.iso', 1000, 'free', 0, 100)`, ih[:]); err != nil {
		t.Fatal(err)
	}
	cache := NewCache()
	s := NewSyncer(pg.Pool, cache, SyncConfig{Resync: time.Hour, RetryMax: 200 * time.Millisecond}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if s.Ready() == nil {
		t.Fatal("ready before loading")
	}
	done := make(chan struct{})
	go func() { _ = s.Run(ctx); close(done) }()
	eventually(t, "initial load", 10*time.Second, func() bool { return s.Ready() == nil })

	u := cache.UserByPasskey(pk)
	tr := cache.TorrentByInfoHash(ih)
	if u == nil || !u.Enabled || !u.CanLeech || tr == nil || tr.Promotion.Name != "free" || tr.Promotion.DownloadPercent != 0 {
		t.Fatalf("loaded user %+v torrent %+v", u, tr)
	}
	if msg := cache.Clients().Check([]byte("-BC0200-000000000000"), "BitComet/2.0", 0); msg != "BitComet is not allowed" {
		t.Fatalf("default client rules not loaded: %q", msg)
	}

	// Changes take effect within 2 s.
	const within = 2 * time.Second
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := pg.Pool.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	exec(`UPDATE users SET enabled = false, disabled_reason = 'cheating' WHERE passkey = $1`, pk)
	eventually(t, "ban", within, func() bool {
		u := cache.UserByPasskey(pk)
		return u != nil && !u.Enabled && u.DisabledReason == "cheating"
	})
	exec(`UPDATE users SET passkey = 'ffffffffffffffffffffffffffffffff', enabled = true WHERE passkey = $1`, pk)
	eventually(t, "passkey change", within, func() bool {
		return cache.UserByPasskey(pk) == nil && cache.UserByPasskey("ffffffffffffffffffffffffffffffff") != nil
	})
	exec(`UPDATE torrents SET deleted_at = now(), deleted_reason = 'dupe' WHERE info_hash = $1`, ih[:])
	eventually(t, "torrent deletion", within, func() bool {
		tr := cache.TorrentByInfoHash(ih)
		return tr != nil && tr.Deleted && tr.DeletedReason == "dupe"
	})
	exec(`INSERT INTO client_rules (peer_id_prefix, allowed, reason) VALUES ('-qB', false, 'qB banned today')`)
	eventually(t, "client rule", within, func() bool { return cache.Clients().Check([]byte("-qB4650-000000000000"), "", 0) == "qB banned today" })
	exec(`INSERT INTO site_promotions (name, download_percent, starts_at, ends_at) VALUES ('weekend', 0, now() - interval '1 hour', now() + interval '1 hour')`)
	eventually(t, "site promotion", within, func() bool { p := cache.SitePromotion(time.Now()); return p != nil && p.Name == "weekend" })
	exec(`INSERT INTO seedbox_ranges (user_id, cidr) SELECT id, '192.0.2.0/24' FROM users WHERE name = 'alice'`)
	eventually(t, "seedbox", within, func() bool {
		d, _ := cache.Seedbox(uint64(cache.UserByPasskey("ffffffffffffffffffffffffffffffff").ID), netip.MustParseAddr("192.0.2.9"))
		return d
	})
	exec(`DELETE FROM seedbox_ranges`)
	exec(`DELETE FROM users WHERE name = 'alice'`)
	eventually(t, "user deletion", within, func() bool { return cache.UserByPasskey("ffffffffffffffffffffffffffffffff") == nil })

	// Postgres goes away: the cache keeps serving what it had.
	exec(`INSERT INTO users (name, passkey) VALUES ('bob', $1)`, pk)
	eventually(t, "bob", within, func() bool { return cache.UserByPasskey(pk) != nil })
	pg.Pool.Reset()
	if _, err := pg.Pool.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`); err != nil {
		t.Fatal(err)
	}
	pg.Pool.Close()
	time.Sleep(500 * time.Millisecond)
	if cache.UserByPasskey(pk) == nil || cache.TorrentByInfoHash(ih) == nil {
		t.Fatal("cache lost entries when postgres went away")
	}
	cancel()
	<-done
}

func TestCacheWithoutPostgres(t *testing.T) {
	c := NewCache()
	c.PutUser("a", &core.User{ID: 1})
	c.PutUser("b", &core.User{ID: 1}) // new passkey for the same member
	if c.UserByPasskey("a") != nil || c.UserByPasskey("b") == nil {
		t.Fatal("passkey change kept the old key")
	}
	c.DeleteUser(1)
	if c.UserByPasskey("b") != nil {
		t.Fatal("deleted user still cached")
	}
	if u, tr := c.Counts(); u != 0 || tr != 0 {
		t.Fatalf("counts %d %d", u, tr)
	}
}
