package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ratioguard/ratioguard/internal/testenv"
)

// detect --describe prints the thresholds a pass would use: defaults, then
// the config file, then what admins stored; invalid stored thresholds are
// named on stderr and the file's values described.
func TestDetectDescribeShowsStoredThresholds(t *testing.T) {
	pg := testenv.Postgres(t)
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "detect.json")
	if err := os.WriteFile(file, []byte(`{"nexusphp": {"level": 2}, "multi_ip": {"max_sites": 3}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := pg.Pool.Exec(ctx, `INSERT INTO detector_settings (section, overrides, updated_by) VALUES
		('report', '{"report_threshold": 0.7}', 'staff:adm'), ('multi_ip', '{"max_sites": 4}', 'staff:adm')`); err != nil {
		t.Fatal(err)
	}
	describe := func() (string, string) {
		t.Helper()
		env, out, errb := testEnv()
		if code := run(ctx, env, []string{"detect", "--describe", "--postgres-url", pg.URL, "--config", file}); code != 0 {
			t.Fatalf("exit %d: %s", code, errb.String())
		}
		return out.String(), errb.String()
	}
	out, _ := describe()
	for _, want := range []string{"reports scores ≥ 0.70", `"max_sites": 4`, `"level": 2`} {
		if !strings.Contains(out, want) {
			t.Errorf("describe lacks %q:\n%s", want, out)
		}
	}
	if _, err := pg.Pool.Exec(ctx, `UPDATE detector_settings SET overrides = '{"max_sites": 0}' WHERE section = 'multi_ip'`); err != nil {
		t.Fatal(err)
	}
	out, errs := describe()
	if !strings.Contains(out, `"max_sites": 3`) || !strings.Contains(out, "reports scores ≥ 0.50") || !strings.Contains(errs, "multi_ip.max_sites must be >= 1") {
		t.Errorf("with an invalid stored threshold: stderr %s\n%s", errs, out)
	}
}
