package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ratioguard/ratioguard/internal/testenv"
)

func TestImportDispatch(t *testing.T) {
	env, _, errb := testEnv()
	ctx := context.Background()
	for _, args := range [][]string{{"import"}, {"import", "sites"}, {"import", "site"}, {"import", "site", "a", "b"}} {
		errb.Reset()
		if code := run(ctx, env, args); code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", args, code, errb)
		}
	}
}

func TestImportSite(t *testing.T) {
	pg := testenv.Postgres(t)
	env, out, errb := testEnv()
	ctx := context.Background()
	file := "../../importer/site/testdata/site.json"
	if code := run(ctx, env, []string{"import", "site", file, "--postgres-url", pg.URL}); code != 0 {
		t.Fatalf("import site: exit %d: %s", code, errb)
	}
	for _, want := range []string{"members:        4 created, 0 updated, 0 unchanged", "torrents:       7 created, 0 updated, 0 unchanged",
		"seedbox ranges: 3 declared by 1 members (3 added, 0 removed; 1 members' sets changed)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("import site printed %q, want a line %q", out, want)
		}
	}
	out.Reset()
	if code := run(ctx, env, []string{"import", "site", "--json", file, "--dry-run", "--postgres-url", pg.URL}); code != 0 {
		t.Fatalf("import site --json: exit %d: %s", code, errb)
	}
	var s struct {
		DryRun  bool `json:"dry_run"`
		Members struct {
			Unchanged int `json:"unchanged"`
		} `json:"members"`
		Torrents struct {
			Unchanged int `json:"unchanged"`
		} `json:"torrents"`
	}
	if err := json.Unmarshal(out.Bytes(), &s); err != nil || !s.DryRun || s.Members.Unchanged != 4 || s.Torrents.Unchanged != 7 {
		t.Fatalf("import site --json printed %q (%v)", out, err)
	}

	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"members": [{"name": "eve", "passkey": "short", "class": "User"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	errb.Reset()
	if code := run(ctx, env, []string{"import", "site", bad, "--postgres-url", pg.URL}); code != 1 ||
		!strings.Contains(errb.String(), `members[0] "eve": passkey: "short" is not 32 characters of [0-9A-Za-z]`) {
		t.Fatalf("bad file: exit %d: %s", code, errb)
	}
}
