package sqlfile

import (
	"testing"
	"testing/fstest"
)

func TestQueries(t *testing.T) {
	q := Queries(fstest.MapFS{"sql/users.sql": {Data: []byte("SELECT 1")}})
	if got := q("users"); got != "SELECT 1" {
		t.Fatalf("q(users) = %q", got)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("missing query did not panic")
		}
	}()
	q("nope")
}
