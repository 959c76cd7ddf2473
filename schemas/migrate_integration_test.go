package schemas_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/ratioguard/ratioguard/internal/testenv"
	"github.com/ratioguard/ratioguard/schemas"
)

func TestPostgresMigrationsApplyIdempotentlyAndNotify(t *testing.T) {
	pg := testenv.Postgres(t) // applies every migration once
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	again, err := schemas.MigratePostgres(ctx, pg.Pool)
	if err != nil {
		t.Fatalf("second migrate: %v", err)
	}
	if len(again) != 0 {
		t.Fatalf("second migrate applied %d migrations, want 0", len(again))
	}

	// A change to a user must NOTIFY the tracker's channel.
	conn, err := pg.Pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "LISTEN ratioguard_policy"); err != nil {
		t.Fatal(err)
	}
	var id int64
	err = pg.Pool.QueryRow(ctx, `INSERT INTO users (name, passkey) VALUES ('alice', '0123456789abcdef0123456789abcdef') RETURNING id`).Scan(&id)
	if err != nil {
		t.Fatal(err)
	}
	n, err := conn.Conn().WaitForNotification(ctx)
	if err != nil {
		t.Fatalf("no notification: %v", err)
	}
	want := `{"table" : "users", "op" : "insert", "id" : ` + strconv.FormatInt(id, 10) + `}`
	if n.Payload != want {
		t.Fatalf("payload %q, want %q", n.Payload, want)
	}

	// Bad input is refused by the schema, not silently stored.
	if _, err := pg.Pool.Exec(ctx, `INSERT INTO users (name, passkey) VALUES ('bob', 'not-a-passkey')`); err == nil {
		t.Fatal("malformed passkey accepted")
	}
}

func TestClickHouseMigrationsApplyIdempotentlyAndRollUp(t *testing.T) {
	ch := testenv.ClickHouse(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	again, err := schemas.MigrateClickHouse(ctx, ch.Conn)
	if err != nil {
		t.Fatalf("second migrate: %v", err)
	}
	if len(again) != 0 {
		t.Fatalf("second migrate applied %d migrations, want 0", len(again))
	}
	// One announce row flows into every rollup through the materialized views.
	batch, err := ch.Conn.PrepareBatch(ctx, `INSERT INTO announces (event_id, producer_id, sequence, time, time_ms, user_id, torrent_id,
		info_hash, peer_id, ip, network, user_agent, event, delta_uploaded, delta_downloaded, result)`)
	if err != nil {
		t.Fatal(err)
	}
	err = batch.Append("0123456789abcdef", "01234567", uint64(1), time.Now(), uint64(0), uint64(7), uint64(9),
		"aaaaaaaaaaaaaaaaaaaa", "-qB4650-abcdefghijkl", "iiiiiiiiiiiiiiii", "nnnnnnnnnnnnnnnn", "qBittorrent/4.6.5", "started",
		uint64(1000), uint64(500), "accepted")
	if err == nil {
		err = batch.Send()
	}
	if err != nil {
		t.Fatalf("insert announce: %v", err)
	}
	var up, down uint64
	if err := ch.Conn.QueryRow(ctx, `SELECT sumMerge(delta_uploaded), sumMerge(delta_downloaded) FROM user_hour WHERE user_id = 7`).Scan(&up, &down); err != nil {
		t.Fatal(err)
	}
	if up != 1000 || down != 500 {
		t.Fatalf("user_hour = %d/%d, want 1000/500", up, down)
	}
	var starts uint64
	if err := ch.Conn.QueryRow(ctx, `SELECT sumMerge(starts) FROM torrent_hour WHERE torrent_id = 9`).Scan(&starts); err != nil {
		t.Fatal(err)
	}
	if starts != 1 {
		t.Fatalf("torrent_hour starts = %d, want 1", starts)
	}
	var n uint64
	if err := ch.Conn.QueryRow(ctx, `SELECT count() FROM announces_by_torrent WHERE torrent_id = 9`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("announces_by_torrent rows = %d, want 1", n)
	}
}
