package reports

import (
	"context"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/ratioguard/ratioguard/internal/testenv"
)

// An unknown name costs the same bcrypt work as a known one: the dummy hash
// compared for unknown names has the cost of the hashes staff accounts get.
func TestDummyHashHasTheRealCost(t *testing.T) {
	pg := testenv.Postgres(t)
	ctx := context.Background()
	st := NewStore(pg.Pool)
	if _, err := st.CreateStaff(ctx, "mod", "correct horse battery", "moderator"); err != nil {
		t.Fatal(err)
	}
	var stored string
	if err := pg.Pool.QueryRow(ctx, `SELECT password_hash FROM staff WHERE name = 'mod'`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	real, err := bcrypt.Cost([]byte(stored))
	if err != nil {
		t.Fatal(err)
	}
	dummy, err := bcrypt.Cost(dummyHash())
	if err != nil {
		t.Fatal(err)
	}
	if dummy != real || real < bcrypt.DefaultCost {
		t.Fatalf("dummy hash cost %d, real hashes cost %d (want equal, ≥ %d)", dummy, real, bcrypt.DefaultCost)
	}
}
