// Package config owns the process configuration shared by every subcommand:
// the engine addresses and listen addresses of DESIGN.md, read from the
// environment with defaults that point at the local stack, and overridable by
// flags.
package config

import (
	"flag"
	"os"
	"strings"
)

// Environment variable names (DESIGN.md "Contracts").
const (
	EnvPostgresURL   = "RG_POSTGRES_URL"
	EnvClickHouseURL = "RG_CLICKHOUSE_URL"
	EnvKafkaBrokers  = "RG_KAFKA_BROKERS"
	EnvTrackerAddr   = "RG_TRACKER_ADDR"
	EnvReportsAddr   = "RG_REPORTS_ADDR"
	EnvLogLevel      = "RG_LOG_LEVEL"
	// EnvMariaDBURL is the local stack's MariaDB (a go-sql-driver/mysql
	// DSN), where tests create the site applications' databases.
	EnvMariaDBURL = "RG_MARIADB_URL"
	// EnvSite and EnvSiteDSN name the site application (gazelle, unit3d)
	// whose database the write-back writes to, and that database's DSN.
	EnvSite    = "RG_SITE"
	EnvSiteDSN = "RG_SITE_DSN"
)

// Defaults: the local stack started by scripts/stack.
const (
	DefaultPostgresURL   = "postgres://ratioguard:ratioguard@127.0.0.1:5432/ratioguard?sslmode=disable"
	DefaultClickHouseURL = "clickhouse://127.0.0.1:9000/ratioguard"
	DefaultKafkaBrokers  = "127.0.0.1:9092"
	DefaultTrackerAddr   = "127.0.0.1:6969"
	DefaultReportsAddr   = "127.0.0.1:8080"
)

// Engines says where the three engines are.
type Engines struct {
	PostgresURL   string
	ClickHouseURL string
	KafkaBrokers  string // comma-separated host:port list
}

// Brokers returns the Kafka broker list.
func (e Engines) Brokers() []string { return SplitList(e.KafkaBrokers) }

// FromEnv reads the engine addresses from the environment, with defaults.
func FromEnv() Engines {
	return Engines{
		PostgresURL:   Getenv(EnvPostgresURL, DefaultPostgresURL),
		ClickHouseURL: Getenv(EnvClickHouseURL, DefaultClickHouseURL),
		KafkaBrokers:  Getenv(EnvKafkaBrokers, DefaultKafkaBrokers),
	}
}

// RegisterFlags adds --postgres-url, --clickhouse-url and --kafka-brokers to
// fs, defaulting to the values already in e (normally FromEnv()).
func (e *Engines) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&e.PostgresURL, "postgres-url", e.PostgresURL, "Postgres URL (env "+EnvPostgresURL+")")
	fs.StringVar(&e.ClickHouseURL, "clickhouse-url", e.ClickHouseURL, "ClickHouse native URL (env "+EnvClickHouseURL+")")
	fs.StringVar(&e.KafkaBrokers, "kafka-brokers", e.KafkaBrokers, "Kafka brokers, comma-separated (env "+EnvKafkaBrokers+")")
}

// Getenv returns the environment variable or def when it is unset or empty.
func Getenv(name, def string) string {
	if v := strings.TrimSpace(os.Getenv(name)); v != "" {
		return v
	}
	return def
}

// SplitList splits a comma-separated list, dropping blanks.
func SplitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
