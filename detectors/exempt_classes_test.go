package detectors

import (
	"context"
	"testing"

	"github.com/ratioguard/ratioguard/internal/testenv"
)

// Staff classes match a site's own names in any case; member classes and
// ratio-only exemptions (Uploader, VIP) are not exempt from detection.
func TestStaffClassesMatchSiteNames(t *testing.T) {
	pg := testenv.Postgres(t)
	ctx := context.Background()
	ids := map[string]int64{}
	for _, c := range []string{"staff", "SysOp", "Administrator", "MODERATOR", "Staff Leader", "Owner", "member", "Power User", "Nexus Master", "Uploader", "VIP"} {
		var id int64
		if err := pg.Pool.QueryRow(ctx, `INSERT INTO users (name, passkey, class) VALUES ($1, md5($1), $1) RETURNING id`, c).Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids[c] = id
	}
	e, err := LoadExemptions(ctx, pg.Pool, DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	for c, id := range ids {
		_, exempt := e.UserExempt(uint64(id))
		want := map[string]bool{"staff": true, "SysOp": true, "Administrator": true, "MODERATOR": true, "Staff Leader": true, "Owner": true}[c]
		if exempt != want {
			t.Errorf("class %q exempt = %v, want %v", c, exempt, want)
		}
	}
	cfg := DefaultConfig()
	cfg.StaffClasses = []string{"nexus master"}
	if e, err = LoadExemptions(ctx, pg.Pool, cfg); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.UserExempt(uint64(ids["Nexus Master"])); !ok {
		t.Error("configured class Nexus Master not exempt")
	}
	if _, ok := e.UserExempt(uint64(ids["staff"])); ok {
		t.Error("staff exempt though the configuration lists only Nexus Master")
	}
}
