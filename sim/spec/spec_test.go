package spec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestShippedSpecsLoad(t *testing.T) {
	files, err := filepath.Glob("../specs/*.yaml")
	if err != nil || len(files) < 3 {
		t.Fatalf("spec files: %v %v", files, err)
	}
	for _, f := range files {
		if _, err := Load(f); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func TestParseRejectsMistakes(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"members: 0", "members must be at least 1"},
		{"membres: 10", "field membres not found"},
		{"tick: 1h\ninterval: 30m", "tick must be positive and at most interval"},
		{"clients: {bitcomet: 1}", `"bitcomet" is not an honest client`},
		{"clients: {ratiofaker-fixed: 1}", "not an honest client"},
		{"torrents: {size_median: lots}", "not a byte count"},
		{"lookalikes: {seedbox: 2}", "lookalikes.seedbox must be a fraction"},
		{"members: 4\ncheaters: {naive_faker: 3}", "more than half"},
		{"cheaters: {invite_seller: 3}", "each of the 3 invite sellers needs two shared or sold invitees"},
		{"invites: {founders: 0}", "invites.founders must be above 0"},
		{"invites: {popular: -1}", "invites.popular must not be negative"},
	} {
		_, err := Parse([]byte(tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q) = %v, want an error containing %q", tc.yaml, err, tc.want)
		}
	}
}

func TestParseUnitsAndDefaults(t *testing.T) {
	s, err := Parse([]byte("seed: 9\ntick: 1s\ninterval: 20s\nbehavior: {upload_min: 1.5MiB, upload_max: 2MB}"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Seed != 9 || s.Tick != time.Second || s.Behavior.UploadMin != 3*MiB/2 || s.Behavior.UploadMax != 2000000 || s.Members != Default().Members {
		t.Fatalf("parsed %+v", s)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.yaml")); err == nil || !os.IsNotExist(unwrapAll(err)) {
		t.Fatalf("Load(missing) = %v", err)
	}
}

func unwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return err
		}
		err = u.Unwrap()
	}
}
