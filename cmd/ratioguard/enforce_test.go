package main

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ratioguard/ratioguard/enforce/rules"
	"github.com/ratioguard/ratioguard/internal/testenv"
)

func TestEnforcePrintConfigRoundTrips(t *testing.T) {
	env, out, _ := testEnv()
	if err := runEnforce(context.Background(), env, []string{"--print-config"}); err != nil {
		t.Fatal(err)
	}
	cfg, err := rules.Parse(strings.NewReader(out.String()))
	if err != nil {
		t.Fatalf("printed config does not parse: %v\n%s", err, out)
	}
	if !reflect.DeepEqual(cfg, rules.Default()) {
		t.Fatalf("round trip changed the config:\n%s", out)
	}
}

func TestEnforceRejectsBadConfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "enforce.yaml")
	if err := os.WriteFile(path, []byte("ratio:\n  watch_days: -1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env, _, _ := testEnv()
	err := runEnforce(context.Background(), env, []string{"--config", path, "--print-config"})
	if err == nil || !strings.Contains(err.Error(), "watch_days") {
		t.Fatalf("got %v", err)
	}
}

func TestEnforceDryRunOnEmptyDatabase(t *testing.T) {
	pg := testenv.Postgres(t)
	env, out, _ := testEnv()
	if err := runEnforce(context.Background(), env, []string{"--dry-run", "--postgres-url", pg.URL}); err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(out.String()) != "no changes planned" {
		t.Fatalf("stdout %q", out)
	}
	out.Reset()
	if err := runEnforce(context.Background(), env, []string{"--once", "--json", "--postgres-url", pg.URL}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"applied":0`) {
		t.Fatalf("stdout %q", out)
	}
}
