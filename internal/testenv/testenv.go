// Package testenv owns how integration tests reach the real engines: each
// test gets its own freshly migrated Postgres database, ClickHouse database or
// Kafka topic, dropped when it ends. An engine whose environment variable is
// unset skips the test on a developer's laptop; with CI=true an unset or
// unreachable engine fails it.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ratioguard/ratioguard/internal/chconn"
	"github.com/ratioguard/ratioguard/internal/config"
	"github.com/ratioguard/ratioguard/internal/kafkaconn"
	"github.com/ratioguard/ratioguard/internal/pgconn"
	"github.com/ratioguard/ratioguard/schemas"
)

// engineURL returns the engine's configured address or skips/fails the test.
func engineURL(t testing.TB, env string) string {
	t.Helper()
	v := strings.TrimSpace(os.Getenv(env))
	if v != "" {
		return v
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not set: in CI every integration test must reach its engine (run scripts/stack up)", env)
	}
	t.Skipf("%s not set; run `scripts/stack up` and `source .stack/env` to run integration tests", env)
	return ""
}

// UniqueName returns prefix_<random hex>, a valid identifier for databases and topics.
func UniqueName(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + "_" + hex.EncodeToString(b)
}

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return c
}

// PG is a fresh, migrated Postgres database for one test.
type PG struct {
	Pool *pgxpool.Pool
	URL  string // connection URL of the fresh database
}

// Postgres creates a database, applies the migrations, and drops it when the test ends.
func Postgres(t testing.TB) PG {
	t.Helper()
	return PostgresAt(t, engineURL(t, config.EnvPostgresURL))
}

// PostgresAt is Postgres on the server that base (a database URL) points at,
// e.g. a PostgresServer's.
func PostgresAt(t testing.TB, base string) PG {
	t.Helper()
	pg := EmptyPostgresAt(t, base)
	if _, err := schemas.MigratePostgres(ctx(t), pg.Pool); err != nil {
		t.Fatal(err)
	}
	return pg
}

// EmptyPostgres creates a database without any migration (a test that
// applies migrations itself, e.g. up to an earlier schema) and drops it when
// the test ends.
func EmptyPostgres(t testing.TB) PG {
	t.Helper()
	return EmptyPostgresAt(t, engineURL(t, config.EnvPostgresURL))
}

// EmptyPostgresAt is EmptyPostgres on the server that base points at.
func EmptyPostgresAt(t testing.TB, base string) PG {
	t.Helper()
	c := ctx(t)
	admin, err := pgx.Connect(c, base)
	if err != nil {
		t.Fatalf("connect to postgres: %v", err)
	}
	defer admin.Close(c)
	name := UniqueName("rgtest")
	if _, err := admin.Exec(c, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", config.EnvPostgresURL, err)
	}
	u.Path = "/" + name
	pool, err := pgconn.Connect(c, u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		pool.Close()
		c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if admin, err := pgx.Connect(c, base); err == nil {
			_, _ = admin.Exec(c, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			admin.Close(c)
		}
	})
	return PG{Pool: pool, URL: u.String()}
}

// CH is a fresh, migrated ClickHouse database for one test.
type CH struct {
	Conn     chconn.Conn
	URL      string
	Database string
}

// ClickHouse creates a database, applies the DDL, and drops it when the test ends.
func ClickHouse(t testing.TB) CH {
	t.Helper()
	return ClickHouseAt(t, engineURL(t, config.EnvClickHouseURL))
}

// ClickHouseAt is ClickHouse on the server that base (a database URL) points
// at, e.g. a ClickHouseServer's.
func ClickHouseAt(t testing.TB, base string) CH {
	t.Helper()
	ch := EmptyClickHouseAt(t, base)
	if _, err := schemas.MigrateClickHouse(ctx(t), ch.Conn); err != nil {
		t.Fatal(err)
	}
	return ch
}

// EmptyClickHouse creates a database without any DDL (a test that applies
// migrations itself, e.g. an earlier schema) and drops it when the test ends.
func EmptyClickHouse(t testing.TB) CH {
	t.Helper()
	return EmptyClickHouseAt(t, engineURL(t, config.EnvClickHouseURL))
}

// EmptyClickHouseAt is EmptyClickHouse on the server that base points at.
func EmptyClickHouseAt(t testing.TB, base string) CH {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", config.EnvClickHouseURL, err)
	}
	name := UniqueName("rgtest")
	u.Path = "/" + name
	conn, err := chconn.EnsureDatabase(ctx(t), u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = chconn.DropDatabase(c, conn, name)
		conn.Close()
	})
	return CH{Conn: conn, URL: u.String(), Database: name}
}

// KafkaTopic is a fresh topic on the real broker for one test.
type KafkaTopic struct {
	Brokers []string
	Topic   string
}

// Kafka creates a topic with the given partitions on the configured brokers.
// Topics are left behind (deleting is asynchronous and racy on KRaft);
// their names are unique per test run.
func Kafka(t testing.TB, partitions int) KafkaTopic {
	t.Helper()
	brokers := config.SplitList(engineURL(t, config.EnvKafkaBrokers))
	topic := UniqueName("rgtest")
	if err := kafkaconn.EnsureTopic(ctx(t), brokers, topic, partitions); err != nil {
		t.Fatalf("kafka at %v: %v", brokers, err)
	}
	return KafkaTopic{Brokers: brokers, Topic: topic}
}

// Describe is a one-line summary for test logs.
func (k KafkaTopic) Describe() string { return fmt.Sprintf("%s@%v", k.Topic, k.Brokers) }
