package site

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func TestParseSiteFile(t *testing.T) {
	f, err := ReadFile("testdata/site.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Members) != 4 || len(f.Torrents) != 7 {
		t.Fatalf("%d members, %d torrents", len(f.Members), len(f.Torrents))
	}
	bob := f.Members[1]
	want := []netip.Prefix{netip.MustParsePrefix("203.0.113.7/32"), netip.MustParsePrefix("2001:db8:1:2::/64"), netip.MustParsePrefix("198.51.100.0/24")}
	if bob.Seedboxes == nil || len(*bob.Seedboxes) != 3 {
		t.Fatalf("bob's seedboxes %v, want %v (a range listed twice once)", bob.Seedboxes, want)
	}
	for i, p := range *bob.Seedboxes {
		if p != want[i] {
			t.Errorf("seedbox %d = %v, want %v", i, p, want[i])
		}
	}
	if f.Members[3].Seedboxes != nil || f.Members[3].Enabled == nil || *f.Members[3].Enabled {
		t.Errorf("dave: %+v", f.Members[3])
	}
	if f.Torrents[1].InfoHash[0] != 0x00 || f.Torrents[1].InfoHash[19] != 0x33 || f.Torrents[6].Promo != nil {
		t.Errorf("torrents: %+v", f.Torrents)
	}
	if refs := f.References(); len(refs) != 0 {
		t.Errorf("references outside the file: %v", refs)
	}
}

func TestPromotion(t *testing.T) {
	for in, want := range map[string][3]any{
		"none": {"none", 100, 100}, "": {"none", 100, 100}, "Normal": {"none", 100, 100},
		"free": {"free", 0, 100}, "Freeleech": {"free", 0, 100},
		"half": {"50%", 50, 100}, "50%": {"50%", 50, 100}, "halfdown": {"50%", 50, 100},
		"2x": {"2x", 100, 200}, "twoup": {"2x", 100, 200},
		"free2x": {"free+2x", 0, 200}, "2xfree": {"free+2x", 0, 200}, "free+2x": {"free+2x", 0, 200}, "twoupfree": {"free+2x", 0, 200},
		"30%": {"30%", 30, 100}, "thirtypercent": {"30%", 30, 100}, "2x50%": {"50%+2x", 50, 200},
	} {
		p, err := Promotion(in)
		if err != nil || p.Name != want[0] || p.DownloadPercent != want[1] || p.UploadPercent != want[2] {
			t.Errorf("Promotion(%q) = %+v, %v; want %v", in, p, err, want)
		}
	}
	for _, bad := range []string{"neutral+free", "150%", "free+half+2x", "11x"} {
		if _, err := Promotion(bad); err == nil {
			t.Errorf("Promotion(%q): no error", bad)
		}
	}
}

// Every bad record is reported with its index, name and field, all at once.
func TestParseReportsEveryBadRecord(t *testing.T) {
	doc := `{"members": [
		{"name": "ok", "passkey": "0123456789abcdef0123456789abcdef", "class": "User"},
		{"name": "shortkey", "passkey": "abc", "class": "User"},
		{"name": "ok", "passkey": "1123456789abcdef0123456789abcdef", "class": "User"},
		{"name": "samekey", "passkey": "0123456789abcdef0123456789abcdef", "class": "User"},
		{"name": "noclass", "passkey": "2123456789abcdef0123456789abcdef", "class": ""},
		{"name": "badcidr", "passkey": "3123456789abcdef0123456789abcdef", "class": "User", "seedbox_cidrs": ["10.0.0.1/24", "nope", "10.0.0.0/8"]},
		{"name": "self", "passkey": "4123456789abcdef0123456789abcdef", "class": "User", "invited_by": "self"},
		{"name": "typo", "passkey": "5123456789abcdef0123456789abcdef", "class": "User", "invitedby": "ok"},
		{"name": "ms", "passkey": "6123456789abcdef0123456789abcdef", "class": "User", "created_ts": 1700000000000},
		{"name": " padded", "passkey": "7123456789abcdef0123456789abcdef", "class": "User"},
		{"name": "x", "passkey": "8123456789abcdef0123456789abcdef", "class": "User", "invited_by": "y"},
		{"name": "y", "passkey": "9123456789abcdef0123456789abcdef", "class": "User", "invited_by": "x"}
	], "torrents": [
		{"info_hash": "f8c154180acca5cdad774be8f926842593880c7", "name": "short hash", "size": 1},
		{"info_hash": "f8c154180acca5cdad774be8f926842593880c70", "name": "ok", "size": 1},
		{"info_hash": "F8C154180ACCA5CDAD774BE8F926842593880C70", "name": "dup", "size": 1},
		{"info_hash": "0000000000000000000000000000000000000001", "name": "", "size": 0, "promo": "sixfold"},
		{"info_hash": "0000000000000000000000000000000000000002", "name": "s", "size": "big"},
		{"info_hash": "0000000000000000000000000000000000000003", "name": "u", "size": 1, "promo_until_ts": 1900000000}
	]}`
	_, err := Parse(strings.NewReader(doc))
	var inv *InvalidError
	if !errors.As(err, &inv) {
		t.Fatalf("err = %v, want *InvalidError", err)
	}
	got := map[string]bool{}
	for _, p := range inv.Problems {
		got[p.Record+"|"+p.Field] = true
	}
	for _, want := range []string{
		"members[1]|passkey", "members[2]|name", "members[3]|passkey", "members[4]|class",
		"members[5]|seedbox_cidrs[0]", "members[5]|seedbox_cidrs[1]", "members[5]|seedbox_cidrs[2]",
		"members[6]|invited_by", "members[7]|", "members[8]|created_ts", "members[9]|name", "members[10]|invited_by",
		"torrents[0]|info_hash", "torrents[2]|info_hash", "torrents[3]|name", "torrents[3]|size", "torrents[3]|promo",
		"torrents[4]|", "torrents[5]|promo_until_ts",
	} {
		if !got[want] {
			t.Errorf("no problem reported for %s", want)
		}
	}
	msg := err.Error()
	for _, want := range []string{
		`members[1] "shortkey": passkey: "abc" is not 32 characters of [0-9A-Za-z]`,
		`members[2] "ok": name: also the name of members[0]`,
		`members[5] "badcidr": seedbox_cidrs[0]: "10.0.0.1/24" has bits set after the /24 (the range is 10.0.0.0/24)`,
		`members[7] "typo": unknown field "invitedby"`,
		`members[8] "ms": created_ts: 1700000000000 is not a time in Unix seconds (milliseconds?)`,
		`torrents[2] "f8c154180acca5cdad774be8f926842593880c70": info_hash: also the info_hash of torrents[1]`,
		`torrents[4] "0000000000000000000000000000000000000002": field size: string is not a whole number`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	if n := strings.Count(msg, "\n"); n > maxListed+1 {
		t.Errorf("error lists %d lines, want at most %d", n, maxListed+1)
	}
}

func TestParseRefusesOtherDocuments(t *testing.T) {
	for _, doc := range []string{``, `[]`, `{"members": {}}`, `{"users": []}`, `{"members": []} {}`, "{\n\"members\": [,]}"} {
		if _, err := Parse(strings.NewReader(doc)); err == nil {
			t.Errorf("Parse(%q): no error", doc)
		}
	}
	if _, err := Parse(strings.NewReader("{\n\"members\": [,]}")); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("syntax error without its line: %v", err)
	}
}
