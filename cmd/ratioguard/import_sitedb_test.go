package main

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/ratioguard/ratioguard/internal/testenv"
)

// TestImportSiteFromGazelle: `import site --from gazelle DSN` imports the
// site's database; a bad row is named by table and id and nothing is
// imported, --skip-invalid leaves it out; --dry-run after an edit prints
// that change and nothing else.
func TestImportSiteFromGazelle(t *testing.T) {
	pg := testenv.Postgres(t)
	m := testenv.MariaDB(t)
	var schema []byte
	for _, f := range []string{"../../ingest/site/testdata/gazelle.sql", "../../importer/sitedb/testdata/gazelle.sql"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		schema = append(schema, b...)
	}
	m.Exec(t, string(schema)+`
		INSERT INTO permissions (ID, Level, Name) VALUES (1, 100, 'User'), (2, 150, 'Power User');
		INSERT INTO users_main (ID, Username, Enabled, PermissionID, torrent_pass) VALUES
			(1, 'alice', '1', 1, '0123456789abcdef0123456789abcdef'), (2, 'bob', '1', 1, 'not-a-passkey');
		INSERT INTO torrents_group (ID, Name) VALUES (1, 'Album');
		INSERT INTO torrents (ID, GroupID, UserID, info_hash, Size) VALUES (1, 1, 1, UNHEX('f8c154180acca5cdad774be8f926842593880c70'), 100);`)
	env, out, errb := testEnv()
	ctx := context.Background()
	imp := func(extra ...string) int {
		out.Reset()
		errb.Reset()
		return run(ctx, env, append([]string{"import", "site", "--from", "gazelle", m.DSN, "--postgres-url", pg.URL}, extra...))
	}
	if code := imp(); code != 1 || !strings.Contains(errb.String(), `users_main ID 2 "bob": passkey: "not-a-passkey" is not 32 characters`) {
		t.Fatalf("a bad passkey: exit %d, stderr %q", code, errb)
	}
	var n int
	if err := pg.Pool.QueryRow(ctx, "SELECT count(*) FROM users").Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d members imported from a site with a bad row (%v)", n, err)
	}
	if code := imp("--skip-invalid"); code != 0 {
		t.Fatalf("--skip-invalid: exit %d: %s", code, errb)
	}
	for _, want := range []string{"members:        1 created", "torrents:       1 created",
		`skipped (invalid): users_main ID 2 "bob": passkey: "not-a-passkey" is not 32 characters of [0-9A-Za-z]`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("--skip-invalid printed %q, want %q", out, want)
		}
	}
	if strings.Contains(out.String(), m.DSN) {
		t.Errorf("the DSN (with its password) printed: %q", out)
	}
	if _, err := m.DB.Exec(`UPDATE users_main SET PermissionID = 2, torrent_pass = 'fedcba9876543210fedcba9876543210' WHERE ID = 2`); err != nil {
		t.Fatal(err)
	}
	if _, err := m.DB.Exec(`UPDATE torrents SET FreeTorrent = '2' WHERE ID = 1`); err != nil {
		t.Fatal(err)
	}
	if code := imp("--dry-run"); code != 0 {
		t.Fatalf("--dry-run: exit %d: %s", code, errb)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	want := []string{`users_main ID 2 "bob": created`, `torrents ID 1 "f8c154180acca5cdad774be8f926842593880c70": promotion: none -> neutral`}
	if got := lines[len(lines)-2:]; strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("--dry-run printed\n%s\nwant it to end with\n%s", out, strings.Join(want, "\n"))
	}

	// What the checks need ratioguard's database for is named by row too.
	const taken = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	if _, err := pg.Pool.Exec(ctx, `INSERT INTO users (name, passkey) VALUES ('zed', $1)`, taken); err != nil {
		t.Fatal(err)
	}
	if _, err := m.DB.Exec(`UPDATE users_main SET torrent_pass = ? WHERE ID = 1`, taken); err != nil {
		t.Fatal(err)
	}
	if code := imp("--dry-run"); code != 1 || !strings.Contains(errb.String(), `users_main ID 1 "alice": passkey: already the passkey of member "zed"`) {
		t.Fatalf("a passkey another member holds: exit %d, stderr %q", code, errb)
	}
}
