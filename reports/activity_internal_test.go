package reports

import (
	"net/netip"
	"testing"
	"time"
)

func TestClientOfReadsAzureusPeerIDs(t *testing.T) {
	for prefix, want := range map[string][2]string{
		"-qB4650-":   {"-qB", "4.6.5.0"},
		"-TR4050-":   {"-TR", "4.0.5.0"},
		"M7-4-3--":   {"M7-", ""},
		"\xff\x00ab": {"%FF%00a", ""},
	} {
		c, v := clientOf(prefix)
		if c != want[0] || v != want[1] {
			t.Errorf("clientOf(%q) = %q %q, want %q %q", prefix, c, v, want[0], want[1])
		}
	}
}

func TestAddressesPrintAsStored(t *testing.T) {
	v4 := netip.MustParseAddr("198.51.100.7").As16()
	v6 := netip.MustParseAddr("2001:db8:1:2::5").As16()
	if got := formatIP(string(v4[:])); got != "198.51.100.7" {
		t.Errorf("v4: %s", got)
	}
	if got := formatNetwork(string(v4[:])); got != "198.51.100.0/24" {
		t.Errorf("v4 network: %s", got)
	}
	if got := formatNetwork(string(v6[:])); got != "2001:db8:1:2::/64" {
		t.Errorf("v6 network: %s", got)
	}
	if got := formatIP("short"); got != "?" {
		t.Errorf("bad length: %s", got)
	}
}

func TestSearchReadsRanges(t *testing.T) {
	for q, want := range map[string]string{
		"198.51.100.7":        "198.51.100.7/32",
		"198.51.100.9/24":     "198.51.100.0/24",
		"::ffff:10.1.2.3/120": "10.1.2.0/24",
		"2001:db8::1/48":      "2001:db8::/48",
	} {
		p, ok := parseRange(q)
		if !ok || p.String() != want {
			t.Errorf("parseRange(%q) = %v %v, want %s", q, p, ok, want)
		}
	}
	if _, ok := parseRange("alice"); ok {
		t.Error("a name read as a range")
	}
	if got := lastAddr(netip.MustParsePrefix("198.51.100.0/24")); got.String() != "198.51.100.255" {
		t.Errorf("last of /24: %s", got)
	}
	if got := lastAddr(netip.MustParsePrefix("2001:db8::/64")); got.String() != "2001:db8::ffff:ffff:ffff:ffff" {
		t.Errorf("last of /64: %s", got)
	}
}

// Balance is judged on closed days only and above 5% of the size; the
// members whose claimed upload exceeds their download on those days share
// the excess.
func TestJudgeBalance(t *testing.T) {
	now := time.Date(2026, 12, 3, 1, 0, 0, 0, time.UTC) // 01:00: yesterday closed less than 2 h ago
	day := func(d int) time.Time { return time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -d) }
	const size = 1000
	cells := []memberDay{
		{Day: day(3), UserID: 1, Up: 30, Down: 0},  // below the floor (5% of 1000 = 50)
		{Day: day(2), UserID: 1, Up: 300, Down: 0}, // unbalanced: 300 more
		{Day: day(2), UserID: 2, Up: 100, Down: 0}, //   and 100 more
		{Day: day(2), UserID: 3, Up: 0, Down: 100}, //   a leecher
		{Day: day(1), UserID: 1, Up: 900, Down: 0}, // yesterday: not closed until 02:00
		{Day: day(0), UserID: 2, Up: 900, Down: 0}, // today: open
	}
	days, who, err := judgeBalance(cells, size, now)
	if err != nil {
		t.Fatal(err)
	}
	flags := ""
	for _, d := range days {
		switch {
		case d.Unbalanced:
			flags += "U"
		case d.Closed:
			flags += "c"
		default:
			flags += "o"
		}
	}
	if flags != "cUoo" {
		t.Errorf("days judged %s, want cUoo (%+v)", flags, days)
	}
	if len(who) != 2 || who[0].UserID != 1 || who[0].Share != 0.75 || who[1].UserID != 2 || who[1].Share != 0.25 {
		t.Errorf("unbalancers %+v", who)
	}
}
