package detectors

import (
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
)

func TestRobustZAndStrength(t *testing.T) {
	z := robustZ([]float64{0, 0, 0, 0, 0.9}, 0.02)
	if z[4] < 5 || z[0] != 0 {
		t.Fatalf("robustZ = %v", z)
	}
	if strength(1, 2) != 0 || strength(2, 2) != 0.6 || math.Abs(strength(4, 2)-0.9) > 1e-9 || strength(100, 2) != 1 {
		t.Fatal("strength curve changed")
	}
	if got := combine([]Signal{{Fired: true, Weight: 0.5, Strength: 1}, {Fired: true, Weight: 0.5, Strength: 1}}); got != 0.75 {
		t.Fatalf("combine = %v", got)
	}
}

func TestSitesMergeNetworksSharingAPeer(t *testing.T) {
	rows := []mipRow{{Peers: []string{"a"}, UAs: []string{"x"}}, {Peers: []string{"a", "b"}, UAs: []string{"x"}}, {Peers: []string{"c"}, UAs: []string{"y"}}}
	if sites, uas := sitesOf(rows); sites != 2 || uas != 2 {
		t.Fatalf("sitesOf = %d sites, %d uas", sites, uas)
	}
}

func TestNetworkPrefixAndExemptions(t *testing.T) {
	n := NetworkOf(netip.MustParseAddr("203.0.113.77"))
	if n.String() != "203.0.113.0/24" || !n.IsV4() {
		t.Fatalf("network = %s", n)
	}
	if s := NetworkOf(netip.MustParseAddr("2001:db8:1:2:3:4:5:6")).String(); s != "2001:db8:1:2::/64" {
		t.Fatalf("v6 network = %s", s)
	}
	e := NewExemptions()
	e.AddSeedbox(1, netip.MustParsePrefix("203.0.113.64/26"))
	if !e.NetworkExempt(1, n) || e.NetworkExempt(2, n) {
		t.Fatal("seedbox overlap wrong")
	}
}

func TestLoadConfigRejectsBadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(s string) string {
		p := filepath.Join(dir, "c.json")
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if _, err := LoadConfig(write(`{"nexusphp": {"level": 9}}`)); err == nil {
		t.Error("level 9 accepted")
	}
	if _, err := LoadConfig(write(`{"no_such": 1}`)); err == nil {
		t.Error("unknown field accepted")
	}
	if _, err := LoadConfig(write(`{"allow_networks": ["nonsense"]}`)); err == nil {
		t.Error("bad CIDR accepted")
	}
	c, err := LoadConfig(write(`{"multi_ip": {"lookback": "72h", "max_sites": 3, "min_hours": 2}}`))
	if err != nil || c.MultiIP.Lookback.Hours() != 72 || c.MultiIP.MaxSites != 3 || c.FakedUpload.MaxRate == 0 {
		t.Fatalf("config = %+v, %v", c.MultiIP, err)
	}
}

func TestTVDAndVersionDigits(t *testing.T) {
	if d := tvd(map[uint8]float64{1: 1}, map[uint8]float64{2: 5}); d != 1 {
		t.Fatalf("tvd disjoint = %v", d)
	}
	if versionDigits("4620-") != "46" || versionDigits("3.00") != "30" {
		t.Fatal("versionDigits")
	}
}
