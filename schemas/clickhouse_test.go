package schemas

import (
	"strings"
	"testing"
)

func TestSplitStatements(t *testing.T) {
	got := SplitStatements("-- header\nCREATE TABLE a (x UInt8);\n\n-- only a comment\nSELECT 1\nFROM b;\n-- trailing\n")
	if len(got) != 2 || !strings.HasPrefix(got[0], "-- header\nCREATE TABLE a") || !strings.Contains(got[1], "FROM b") {
		t.Fatalf("SplitStatements = %q", got)
	}
}

// The embedded DDL must stay inside the subset ClickHouse 18.16 accepts.
func TestClickHouseDDLAvoidsFeaturesMissingIn1816(t *testing.T) {
	files, err := ClickHouseMigrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no clickhouse migrations embedded")
	}
	forbidden := []string{" TTL ", "CODEC(", "DateTime64", "IPv4", "IPv6", "toStartOfInterval", " OVER (", "neighbor("}
	for _, f := range files {
		for _, s := range f.Statements {
			code := stripComments(s)
			for _, bad := range forbidden {
				if strings.Contains(" "+code+" ", bad) {
					t.Errorf("%s uses %q, which ClickHouse 18.16 lacks", f.Name, strings.TrimSpace(bad))
				}
			}
		}
	}
}
