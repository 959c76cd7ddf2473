package testenv

import (
	"context"
	"testing"
)

// Two tests' databases are separate and each starts empty.
func TestMariaDBFreshDatabase(t *testing.T) {
	a, b := MariaDB(t), MariaDB(t)
	if a.Database == b.Database {
		t.Fatalf("two tests share database %s", a.Database)
	}
	a.Exec(t, "CREATE TABLE x (id INT PRIMARY KEY); INSERT INTO x VALUES (1), (2);")
	var n int
	if err := a.DB.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM x").Scan(&n); err != nil || n != 2 {
		t.Fatalf("count in %s = %d, %v; want 2", a.Database, n, err)
	}
	if err := b.DB.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE()").Scan(&n); err != nil || n != 0 {
		t.Fatalf("tables in fresh %s = %d, %v; want 0", b.Database, n, err)
	}
}
