package config

import (
	"flag"
	"reflect"
	"testing"
)

func TestFromEnvDefaultsAndOverrides(t *testing.T) {
	t.Setenv(EnvPostgresURL, "")
	t.Setenv(EnvKafkaBrokers, " a:1, ,b:2 ")
	e := FromEnv()
	if e.PostgresURL != DefaultPostgresURL {
		t.Fatalf("PostgresURL = %q, want default", e.PostgresURL)
	}
	if got := e.Brokers(); !reflect.DeepEqual(got, []string{"a:1", "b:2"}) {
		t.Fatalf("Brokers = %v", got)
	}
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	e.RegisterFlags(fs)
	if err := fs.Parse([]string{"--clickhouse-url", "clickhouse://h:9000/x"}); err != nil {
		t.Fatal(err)
	}
	if e.ClickHouseURL != "clickhouse://h:9000/x" {
		t.Fatalf("flag did not override: %q", e.ClickHouseURL)
	}
}
