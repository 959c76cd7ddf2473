package testenv

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/ratioguard/ratioguard/internal/config"
)

// Maria is a fresh MariaDB database for one test (a site application's
// database: tests create the site's tables in it).
type Maria struct {
	DB       *sql.DB
	DSN      string // go-sql-driver/mysql DSN of the fresh database
	Database string
}

// MariaDB creates a database on the server RG_MARIADB_URL points at and
// drops it when the test ends. The connection allows multi-statement
// scripts (a schema file in one Exec) and parses DATETIME into time.Time.
func MariaDB(t testing.TB) Maria {
	t.Helper()
	base := engineURL(t, config.EnvMariaDBURL)
	cfg, err := mysql.ParseDSN(base)
	if err != nil {
		t.Fatalf("parse %s: %v", config.EnvMariaDBURL, err)
	}
	c := ctx(t)
	admin, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatalf("open mariadb: %v", err)
	}
	defer admin.Close()
	name := UniqueName("rgtest")
	if _, err := admin.ExecContext(c, "CREATE DATABASE "+name+" CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"); err != nil {
		t.Fatalf("create test database on mariadb at %s: %v", cfg.Addr, err)
	}
	cfg.DBName = name
	cfg.MultiStatements = true
	cfg.ParseTime = true
	dsn := cfg.FormatDSN()
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	t.Cleanup(func() {
		db.Close()
		c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if admin, err := sql.Open("mysql", base); err == nil {
			_, _ = admin.ExecContext(c, "DROP DATABASE IF EXISTS "+name)
			admin.Close()
		}
	})
	return Maria{DB: db, DSN: dsn, Database: name}
}

// Exec runs a script of statements (a schema file) in the test database.
func (m Maria) Exec(t testing.TB, script string) {
	t.Helper()
	if strings.TrimSpace(script) == "" {
		t.Fatal("empty script")
	}
	if _, err := m.DB.ExecContext(ctx(t), script); err != nil {
		t.Fatalf("run script in %s: %v", m.Database, err)
	}
}
