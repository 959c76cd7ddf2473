package schemas_test

import (
	"context"
	"testing"
	"time"

	"github.com/ratioguard/ratioguard/internal/testenv"
	"github.com/ratioguard/ratioguard/schemas"
)

// TestPostgres0006KeepsMembersAndAcceptsSitePasskeys: members written under
// 00001-00005 (every built-in class, hex passkeys, invites, seedboxes) stay
// as they were through 00006; afterwards a site's own passkeys
// ([0-9A-Za-z]{32}) and class names are accepted, malformed ones refused.
func TestPostgres0006KeepsMembersAndAcceptsSitePasskeys(t *testing.T) {
	pg := testenv.EmptyPostgres(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := schemas.MigratePostgresTo(ctx, pg.Pool, 5); err != nil {
		t.Fatal(err)
	}
	if _, err := pg.Pool.Exec(ctx, `INSERT INTO users (name, passkey, class)
		SELECT 'u' || i, md5(i::text), (ARRAY['member', 'power_user', 'elite', 'vip', 'uploader', 'staff'])[1 + i % 6]
		FROM generate_series(1, 60) AS i`); err != nil {
		t.Fatal(err)
	}
	if _, err := pg.Pool.Exec(ctx, `UPDATE users SET invited_by = (SELECT id FROM users WHERE name = 'u1') WHERE name <> 'u1'`); err != nil {
		t.Fatal(err)
	}
	if _, err := pg.Pool.Exec(ctx, `INSERT INTO seedbox_ranges (user_id, cidr) SELECT id, '10.0.0.0/24' FROM users WHERE name = 'u2'`); err != nil {
		t.Fatal(err)
	}
	digest := func() string {
		t.Helper()
		var d string
		if err := pg.Pool.QueryRow(ctx, `SELECT md5(string_agg(concat_ws('|', u.id, u.name, u.passkey, u.class, u.enabled, u.invited_by, u.updated_at, s.cidr), ',' ORDER BY u.id))
			FROM users u LEFT JOIN seedbox_ranges s ON s.user_id = u.id`).Scan(&d); err != nil {
			t.Fatal(err)
		}
		return d
	}
	before := digest()
	applied, err := schemas.MigratePostgresTo(ctx, pg.Pool, 6)
	if err != nil {
		t.Fatal(err)
	}
	if len(applied) != 1 || applied[0].Version != 6 {
		t.Fatalf("applied %+v, want 00006 alone", applied)
	}
	if after := digest(); after != before {
		t.Fatal("00006 changed existing members")
	}
	if _, err := schemas.MigratePostgres(ctx, pg.Pool); err != nil { // and every later one
		t.Fatal(err)
	}
	// Every constraint holds over the existing rows (validated, not NOT VALID).
	var unvalidated int
	if err := pg.Pool.QueryRow(ctx, `SELECT count(*) FROM pg_constraint WHERE conrelid = 'users'::regclass AND NOT convalidated`).Scan(&unvalidated); err != nil {
		t.Fatal(err)
	}
	if unvalidated != 0 {
		t.Fatalf("%d constraints on users not validated", unvalidated)
	}

	for _, ok := range []struct{ name, passkey, class string }{
		{"gazelle", "abcdefghijklmnopqrstuvwxyz012345", "Power User"},
		{"unit3d", "AbCdEfGhIjKlMnOpQrStUvWxYz012345", "Administrator"},
		{"nexus", "0123456789abcdef0123456789ABCDEF", "Nexus Master"},
	} {
		if _, err := pg.Pool.Exec(ctx, `INSERT INTO users (name, passkey, class) VALUES ($1, $2, $3)`, ok.name, ok.passkey, ok.class); err != nil {
			t.Errorf("%+v refused: %v", ok, err)
		}
	}
	for _, bad := range []struct{ name, passkey, class string }{
		{"short", "abc", "User"},
		{"long", "abcdefghijklmnopqrstuvwxyz0123456", "User"},
		{"dash", "abcdefghijklmnopqrstuvwxyz01234-", "User"},
		{"empty-class", "bbcdefghijklmnopqrstuvwxyz012345", ""},
		{"padded-class", "cbcdefghijklmnopqrstuvwxyz012345", " User"},
	} {
		if _, err := pg.Pool.Exec(ctx, `INSERT INTO users (name, passkey, class) VALUES ($1, $2, $3)`, bad.name, bad.passkey, bad.class); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}
