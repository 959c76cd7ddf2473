package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ratioguard/ratioguard/internal/testenv"
)

func TestTrackerFlagParsing(t *testing.T) {
	if ps, err := parsePorts("22, 445,6346"); err != nil || !reflect.DeepEqual(ps, []uint16{22, 445, 6346}) {
		t.Fatalf("parsePorts: %v %v", ps, err)
	}
	if _, err := parsePorts("70000"); err == nil {
		t.Fatal("port 70000 accepted")
	}
	ps, err := parsePrefixes("10.0.0.0/8, 192.0.2.7, ::1")
	if err != nil || len(ps) != 3 || ps[1].Bits() != 32 || ps[2].Bits() != 128 {
		t.Fatalf("parsePrefixes: %v %v", ps, err)
	}
	if _, err := parsePrefixes("nope"); err == nil {
		t.Fatal("bad CIDR accepted")
	}
	if got := interleave([]string{"NAME", "--class", "vip", "--json"}); !reflect.DeepEqual(got, []string{"--class", "vip", "--json", "NAME"}) {
		t.Fatalf("interleave: %v", got)
	}
}

// --http-server names the tracker's own server or net/http, nothing else.
func TestTrackerHTTPServerFlag(t *testing.T) {
	env, _, _ := testEnv()
	err := runTracker(context.Background(), env, []string{"--http-server", "fasthttp", "--kafka-brokers", "127.0.0.1:1"})
	if _, ok := err.(usageError); !ok || !strings.Contains(err.Error(), "--http-server") {
		t.Fatalf("err = %v; want a usage error naming --http-server", err)
	}
}

func TestUserAndTorrentAdd(t *testing.T) {
	pg := testenv.Postgres(t)
	env, out, errb := testEnv()
	ctx := context.Background()
	if code := run(ctx, env, []string{"user", "add", "carol", "--class", "vip", "--json", "--postgres-url", pg.URL, "--tracker-url", "http://127.0.0.1:7000"}); code != 0 {
		t.Fatalf("user add: exit %d: %s", code, errb)
	}
	var u struct {
		Passkey     string `json:"passkey"`
		AnnounceURL string `json:"announce_url"`
		Class       string `json:"class"`
	}
	if err := json.Unmarshal(out.Bytes(), &u); err != nil || u.Class != "vip" || u.AnnounceURL != "http://127.0.0.1:7000/"+u.Passkey+"/announce" {
		t.Fatalf("user add printed %q (%v)", out, err)
	}
	file := filepath.Join(t.TempDir(), "x.torrent")
	if err := os.WriteFile(file, []byte("d4:infod6:lengthi7e4:name1:x12:piece lengthi16384e6:pieces20:aaaaaaaaaaaaaaaaaaaaee"), 0o644); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if code := run(ctx, env, []string{"torrent", "add", file, "--promo", "free+2x", "--promo-until", "2030-01-01T00:00:00Z", "--postgres-url", pg.URL}); code != 0 {
		t.Fatalf("torrent add: exit %d: %s", code, errb)
	}
	if !strings.Contains(out.String(), "promotion: free+2x") || !strings.Contains(out.String(), "size:      7 bytes") {
		t.Fatalf("torrent add printed %q", out)
	}
	errb.Reset()
	if code := run(ctx, env, []string{"torrent", "add", file, "--promo", "half", "--postgres-url", pg.URL}); code == 0 || !strings.Contains(errb.String(), "unknown promotion") {
		t.Fatalf("bad promo: exit %d: %s", code, errb)
	}
}
