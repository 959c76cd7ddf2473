package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ratioguard/ratioguard/internal/config"
	"github.com/ratioguard/ratioguard/internal/testenv"
)

// `all` runs the write-back only when a site database is configured.
func TestWritebackConfigured(t *testing.T) {
	t.Setenv(config.EnvSiteDSN, "")
	if writebackConfigured("") {
		t.Error("configured without a site database")
	}
	if !writebackConfigured("--site gazelle --site-dsn u:p@tcp(h:3306)/gazelle") {
		t.Error("not configured with --site-dsn in --writeback-flags")
	}
	t.Setenv(config.EnvSiteDSN, "u:p@tcp(h:3306)/gazelle")
	if !writebackConfigured("") {
		t.Error("not configured with " + config.EnvSiteDSN)
	}
}

func TestWritebackNeedsSiteAndDSN(t *testing.T) {
	t.Setenv(config.EnvSite, "")
	t.Setenv(config.EnvSiteDSN, "")
	var out bytes.Buffer
	env := &cliEnv{stdout: &out, stderr: &out, log: slog.New(slog.NewTextHandler(&out, nil))}
	err := runWriteback(context.Background(), env, []string{"--site", "gazelle"})
	if _, ok := err.(usageError); !ok || !strings.Contains(err.Error(), "--site-dsn") {
		t.Fatalf("err = %v; want a usage error naming --site-dsn", err)
	}
	err = runWriteback(context.Background(), env, []string{"--site", "nexusphp", "--site-dsn", "u:p@tcp(127.0.0.1:1)/x"})
	if err == nil || !strings.Contains(err.Error(), `unknown site "nexusphp"`) {
		t.Fatalf("err = %v; want unknown site", err)
	}
}

// `ratioguard writeback` serves its metrics and readiness on its admin
// address: ready once the site's database answers and its consumer runs;
// its consumer's metrics are named ratioguard_writeback_, apart from
// ingest's.
func TestWritebackServesMetricsAndReadiness(t *testing.T) {
	pg, k, maria := testenv.Postgres(t), testenv.Kafka(t, 1), testenv.MariaDB(t)
	maria.Exec(t, gazelleSchema(t))
	t.Setenv(config.EnvPostgresURL, pg.URL)
	t.Setenv(config.EnvKafkaBrokers, strings.Join(k.Brokers, ","))
	adminAddr := freeAddr(t)
	code, out, cancel := runInBackground("writeback", "--site", "gazelle", "--site-dsn", maria.DSN, "--topic", k.Topic,
		"--flush-interval", "100ms", "--admin-addr", adminAddr)
	defer cancel()
	base := "http://" + adminAddr
	waitReady(t, base, code, out, time.Now().Add(60*time.Second))
	_, metrics := httpGet(base + "/metrics")
	for _, want := range []string{
		`ratioguard_writeback_records_stored_total{sink="writeback-gazelle"} 0`,
		`ratioguard_writeback_skipped_total{reason="member_without_site_id"} 0`,
		`ratioguard_writeback_skipped_total{reason="site_row_missing"} 0`,
		"ratioguard_writeback_announces_applied_total 0", "ratioguard_writeback_token_callbacks_failed_total 0",
		"go_goroutines",
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(metrics, "ratioguard_ingest_") {
		t.Errorf("the write-back exports ingest's metric names:\n%s", metrics)
	}
	cancel()
	if rc := <-code; rc != 0 {
		t.Errorf("writeback exited %d on stop:\n%s", rc, out.String())
	}
}

// gazelleSchema is the write-back's Gazelle test schema (ingest/site/testdata).
func gazelleSchema(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "ingest", "site", "testdata", "gazelle.sql"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
