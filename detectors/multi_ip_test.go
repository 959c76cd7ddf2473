package detectors

import (
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

func TestMultiIPFlagsSharedAccountNotLookAlikes(t *testing.T) {
	f := newFixture(t)
	start := until.Add(-10 * time.Hour)
	// Member 1 shares the account: three clients on three networks at once.
	for i, ip := range []string{"203.0.113.10", "198.51.100.20", "192.0.2.30"} {
		f.session(session{user: 1, torrent: uint64(20 + i), peer: "-qB4620-share" + string(rune('a'+i)), ip: ip, start: start, n: 16, every: 30 * time.Minute})
	}
	// Member 2: dual stack (same peer over IPv4 and IPv6), carrier-NAT
	// rotation of that peer, and a declared seedbox.
	f.session(session{user: 2, torrent: 30, peer: "-qB4620-home", ip: "203.0.113.77", start: start, n: 16, every: 30 * time.Minute})
	f.session(session{user: 2, torrent: 30, peer: "-qB4620-home", ip: "2001:db8:1:2::77", start: start.Add(time.Second), n: 16, every: 30 * time.Minute})
	f.session(session{user: 2, torrent: 31, peer: "-qB4620-home", ip: "100.64.9.77", start: start.Add(2 * time.Second), n: 16, every: 30 * time.Minute})
	f.session(session{user: 2, torrent: 32, peer: "-lt0D60-box", ua: "rtorrent/0.9.8/0.13.8", ip: "192.0.2.200", start: start, n: 16, every: 30 * time.Minute})
	f.env.Exempt.AddSeedbox(2, netip.MustParsePrefix("192.0.2.192/26"))

	f.env.Geo = testGeoDB(t)
	f.env.Config.MultiIP.MaxSites = 2
	got := f.run(MultiIP{})
	shared := reported(t, got, 1)
	var asn bool
	for _, s := range shared.Evidence.Signals {
		asn = asn || s.Name == "concurrent_asn_hours" && s.Fired
	}
	if !asn {
		t.Errorf("concurrent ASNs not counted from the geo database: %+v", shared.Evidence.Signals)
	}
	notReported(t, got, 2)
}

// testGeoDB builds a small MaxMind-format ASN+city database.
func testGeoDB(t *testing.T) *GeoDB {
	t.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: "Test-ASN-City", RecordSize: 28, IncludeReservedNetworks: true})
	if err != nil {
		t.Fatal(err)
	}
	nets := []struct {
		cidr     string
		asn      uint32
		city     string
		lat, lon float64
	}{
		{"203.0.113.0/24", 64500, "Paris", 48.85, 2.35},
		{"198.51.100.0/24", 64501, "Tokyo", 35.68, 139.69},
		{"192.0.2.0/24", 64502, "Lima", -12.05, -77.04},
	}
	for _, n := range nets {
		_, ipnet, err := net.ParseCIDR(n.cidr)
		if err != nil {
			t.Fatal(err)
		}
		rec := mmdbtype.Map{
			"autonomous_system_number":       mmdbtype.Uint32(n.asn),
			"autonomous_system_organization": mmdbtype.String("AS" + n.city),
			"city":                           mmdbtype.Map{"names": mmdbtype.Map{"en": mmdbtype.String(n.city)}},
			"location":                       mmdbtype.Map{"latitude": mmdbtype.Float64(n.lat), "longitude": mmdbtype.Float64(n.lon)},
		}
		if err := tree.Insert(ipnet, rec); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "test.mmdb")
	fh, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tree.WriteTo(fh); err != nil {
		t.Fatal(err)
	}
	if err := fh.Close(); err != nil {
		t.Fatal(err)
	}
	g, err := OpenGeoDB(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Close)
	gi, err := g.Lookup(NetworkOf(netip.MustParseAddr("198.51.100.20")))
	if err != nil || gi.ASN != 64501 || gi.City != "Tokyo" || !gi.HasLocation {
		t.Fatalf("geo lookup = %+v, %v", gi, err)
	}
	return g
}
