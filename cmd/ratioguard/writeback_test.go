package main

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/ratioguard/ratioguard/internal/config"
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
