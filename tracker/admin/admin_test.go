package admin

import (
	"context"
	"crypto/sha1"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/ratioguard/ratioguard/internal/testenv"
)

func TestParseTorrentSingleAndMultiFile(t *testing.T) {
	info := "d6:lengthi12345e4:name8:file.bin12:piece lengthi16384e6:pieces20:aaaaaaaaaaaaaaaaaaaa7:privatei1ee"
	file := "d8:announce22:http://t/0123/announce4:info" + info + "e"
	m, err := ParseTorrent([]byte(file))
	if err != nil {
		t.Fatal(err)
	}
	if m.InfoHash != sha1.Sum([]byte(info)) || m.Name != "file.bin" || m.Size != 12345 || !m.Private || m.Announce != "http://t/0123/announce" {
		t.Fatalf("meta %+v", m)
	}
	multi := "d4:infod5:filesld6:lengthi10e4:pathl1:aeed6:lengthi32e4:pathl1:beee4:name3:dir12:piece lengthi16384e6:pieces0:ee"
	if m, err = ParseTorrent([]byte(multi)); err != nil || m.Size != 42 || m.Private {
		t.Fatalf("multi-file: %+v %v", m, err)
	}
	for _, bad := range []string{"", "le", "d4:infoi1ee", "d4:infod4:name1:aee", "d4:infod6:lengthi-1e4:name1:aee", "d4:infod5:filesle4:name1:aee", "d4:infod6:lengthi1eee"} {
		if _, err := ParseTorrent([]byte(bad)); err == nil {
			t.Errorf("ParseTorrent(%q): no error", bad)
		}
	}
}

func TestParsePromotion(t *testing.T) {
	for in, want := range map[string][2]int{
		"": {100, 100}, "none": {100, 100}, "free": {0, 100}, "50%": {50, 100}, "30%": {30, 100}, "75%": {75, 100},
		"2x": {100, 200}, "3x": {100, 300}, "free+2x": {0, 200}, "50%+3x": {50, 300},
	} {
		p, err := ParsePromotion(in)
		if err != nil || p.DownloadPercent != want[0] || p.UploadPercent != want[1] {
			t.Errorf("ParsePromotion(%q) = %+v, %v; want %v", in, p, err, want)
		}
	}
	for _, bad := range []string{"half", "150%", "0x", "free+50%", "2x+3x", "11x"} {
		if _, err := ParsePromotion(bad); err == nil {
			t.Errorf("ParsePromotion(%q): no error", bad)
		}
	}
}

func TestAddUserAndTorrent(t *testing.T) {
	pg := testenv.Postgres(t)
	ctx := context.Background()
	u, err := AddUser(ctx, pg.Pool, "alice", "", "http://127.0.0.1:6969/")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(u.Passkey) || u.AnnounceURL != "http://127.0.0.1:6969/"+u.Passkey+"/announce" || u.Class != "member" {
		t.Fatalf("user %+v", u)
	}
	if _, err := AddUser(ctx, pg.Pool, "alice", "", "http://x"); !errors.Is(err, ErrExists) {
		t.Fatalf("duplicate name: %v", err)
	}
	if _, err := AddUser(ctx, pg.Pool, "bob", " overlord", "http://x"); err == nil {
		t.Fatal("class with a space around it accepted")
	}
	if b, err := AddUser(ctx, pg.Pool, "bob", "Staff Leader", "http://x"); err != nil || b.Class != "Staff Leader" {
		t.Fatalf("a site's own class: %+v, %v", b, err)
	}
	file := "d4:infod6:lengthi5e4:name1:a12:piece lengthi16384e6:pieces20:aaaaaaaaaaaaaaaaaaaa7:privatei1eee"
	until := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	tr, err := AddTorrent(ctx, pg.Pool, []byte(file), "free+2x", &until, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	var promo string
	var dl, up int
	var got time.Time
	if err := pg.Pool.QueryRow(ctx, `SELECT promotion, promo_download_percent, promo_upload_percent, promotion_until FROM torrents WHERE id = $1`, tr.ID).Scan(&promo, &dl, &up, &got); err != nil {
		t.Fatal(err)
	}
	if promo != "free+2x" || dl != 0 || up != 200 || !got.Equal(until) || tr.Size != 5 {
		t.Fatalf("stored %s %d %d %v; %+v", promo, dl, up, got, tr)
	}
	if _, err := AddTorrent(ctx, pg.Pool, []byte(file), "", nil, 0); !errors.Is(err, ErrExists) {
		t.Fatalf("duplicate torrent: %v", err)
	}
}

// TestParseMktorrentOutput checks the info_hash against a real tool's file.
func TestParseMktorrentOutput(t *testing.T) {
	if _, err := exec.LookPath("mktorrent"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("mktorrent is not installed")
		}
		t.Skip("mktorrent not installed")
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "payload.bin")
	if err := os.WriteFile(data, make([]byte, 100000), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "p.torrent")
	if b, err := exec.Command("mktorrent", "-p", "-a", "http://127.0.0.1:1/x/announce", "-o", out, data).CombinedOutput(); err != nil {
		t.Fatalf("mktorrent: %v %s", err, b)
	}
	b, _ := os.ReadFile(out)
	m, err := ParseTorrent(b)
	if err != nil || m.Size != 100000 || !m.Private || m.Name != "payload.bin" {
		t.Fatalf("%+v %v", m, err)
	}
}

func TestValidPasskey(t *testing.T) {
	for _, ok := range []string{"0123456789abcdef0123456789abcdef", "abcdefghijklmnopqrstuvwxyz012345", "AbCdEfGhIjKlMnOpQrStUvWxYz012345"} {
		if !ValidPasskey(ok) {
			t.Errorf("ValidPasskey(%q) = false", ok)
		}
	}
	for _, bad := range []string{"", "abc", "0123456789abcdef0123456789abcdef0", "0123456789abcdef0123456789abcde-", "0123456789abcdef0123456789abcdé"} {
		if ValidPasskey(bad) {
			t.Errorf("ValidPasskey(%q) = true", bad)
		}
	}
	if pk, err := NewPasskey(); err != nil || !ValidPasskey(pk) {
		t.Errorf("NewPasskey() = %q, %v", pk, err)
	}
}
