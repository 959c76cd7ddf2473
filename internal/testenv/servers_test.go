package testenv_test

import (
	"context"
	"testing"
	"time"

	"github.com/ratioguard/ratioguard/internal/chconn"
	"github.com/ratioguard/ratioguard/internal/pgconn"
	"github.com/ratioguard/ratioguard/internal/testenv"
)

// The private ClickHouse keeps inserted rows across a crash (SIGKILL) and a
// clean stop, on the same ports.
func TestPrivateClickHouseServerSurvivesKillAndStop(t *testing.T) {
	if testing.Short() {
		t.Skip("starts clickhouse-server three times")
	}
	s := testenv.StartClickHouseServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	conn, err := chconn.EnsureDatabase(ctx, s.URL("private"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.Exec(ctx, "CREATE TABLE t (v String) ENGINE = MergeTree() ORDER BY v"); err != nil {
		t.Fatal(err)
	}
	insert := func(v string) {
		t.Helper()
		var err error
		for range 50 { // the pool's old connections fail once after a restart
			var b interface {
				Append(...any) error
				Send() error
			}
			if b, err = conn.PrepareBatch(ctx, "INSERT INTO t (v)"); err == nil {
				if err = b.Append(v); err == nil {
					if err = b.Send(); err == nil {
						return
					}
				}
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Fatalf("insert %q: %v", v, err)
	}
	insert("before kill")
	s.Kill()
	if s.Running() {
		t.Fatal("still running after Kill")
	}
	s.Start()
	insert("after kill")
	testenv.Restart(s, false, 0)
	var got []string
	var err2 error
	for range 50 {
		got = nil
		rows, err := conn.Query(ctx, "SELECT v FROM t ORDER BY v")
		if err2 = err; err == nil {
			for rows.Next() {
				var v string
				if err2 = rows.Scan(&v); err2 != nil {
					break
				}
				got = append(got, v)
			}
			rows.Close()
			if err2 == nil {
				break
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err2 != nil || len(got) != 2 || got[0] != "after kill" || got[1] != "before kill" {
		t.Fatalf("read back after restarts: %v (%v)", got, err2)
	}
}

// The private Postgres keeps committed rows across a crash (SIGKILL of the
// postmaster and backends) and a clean stop, on the same port.
func TestPrivatePostgresServerSurvivesKillAndStop(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Postgres cluster three times")
	}
	s := testenv.StartPostgresServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	pool, err := pgconn.Connect(ctx, s.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	exec := func(sql string, args ...any) {
		t.Helper()
		var err error
		for range 50 { // the pool's old connections fail once after a restart
			if _, err = pool.Exec(ctx, sql, args...); err == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Fatalf("%s: %v", sql, err)
	}
	exec("CREATE TABLE t (v text)")
	exec("INSERT INTO t VALUES ($1)", "before kill")
	s.Kill()
	if s.Running() {
		t.Fatal("still running after Kill")
	}
	s.Start()
	exec("INSERT INTO t VALUES ($1)", "after kill")
	testenv.Restart(s, false, 0)
	exec("SELECT 1")
	var n int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM t WHERE v IN ('before kill', 'after kill')").Scan(&n); err != nil || n != 2 {
		t.Fatalf("read back after restarts: %d rows (%v)", n, err)
	}
	// A migrated test database on the private server.
	db := testenv.PostgresAt(t, s.URL("postgres"))
	if err := db.Pool.Ping(ctx); err != nil {
		t.Fatal(err)
	}
}
