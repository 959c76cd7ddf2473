package site

import (
	"context"
	"testing"

	"github.com/ratioguard/ratioguard/internal/testenv"
)

// TestImportListsChanges: with Options.Changes every created record is
// listed, then every field an update changes with its old and new value;
// an import that changes nothing lists nothing.
func TestImportListsChanges(t *testing.T) {
	pool := testenv.Postgres(t).Pool
	doc := testdata(t)
	s, err := Import(context.Background(), pool, load(t, doc), Options{Changes: true})
	if err != nil {
		t.Fatal(err)
	}
	if want := len(doc["members"]) + len(doc["torrents"]); len(s.Changes) != want {
		t.Fatalf("first import: %d changes, want %d (one per record created): %+v", len(s.Changes), want, s.Changes)
	}
	for _, c := range s.Changes {
		if c.Field != "" {
			t.Fatalf("first import: %+v is not a record created", c)
		}
	}
	if s, err = Import(context.Background(), pool, load(t, doc), Options{Changes: true, DryRun: true}); err != nil || len(s.Changes) != 0 {
		t.Fatalf("second import: %+v, %v; want no change", s.Changes, err)
	}
	doc["members"][1]["class"] = "Elite"
	doc["members"][1]["invited_by"] = ""
	doc["torrents"][0]["promo"] = "2x"
	s, err = Import(context.Background(), pool, load(t, doc), Options{Changes: true, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	name, ih := doc["members"][1]["name"].(string), doc["torrents"][0]["info_hash"].(string)
	inviter := testdata(t)["members"][1]["invited_by"].(string)
	want := []Change{
		{Record: "members[1]", Name: name, Field: "class", Old: testdata(t)["members"][1]["class"].(string), New: "Elite"},
		{Record: "members[1]", Name: name, Field: "invited_by", Old: inviter, New: `""`},
		{Record: "torrents[0]", Name: ih, Field: "promotion", Old: "free", New: "2x"},
	}
	if len(s.Changes) != len(want) {
		t.Fatalf("changes %+v, want %+v", s.Changes, want)
	}
	for i := range want {
		if s.Changes[i] != want[i] {
			t.Errorf("change %d: %+v, want %+v", i, s.Changes[i], want[i])
		}
	}
}
