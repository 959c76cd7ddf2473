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

// mipRow builds a mip_sessions row at an address.
func mipRow(user uint64, addr, peer, ua string, torrent uint64, times []uint32, stops ...uint32) mipSession {
	a := netip.MustParseAddr(addr)
	var site [16]byte
	if a.Is4() {
		site = a.As16()
	} else {
		site = netip.PrefixFrom(a, 64).Masked().Addr().As16()
	}
	return mipSession{UserID: user, Site: string(site[:]), Peer: peer, TorrentID: torrent, Port: 51413, UA: ua, Times: times, Stops: stops}
}

// every returns n times from t0, step seconds apart.
func every(t0, step uint32, n int) []uint32 {
	out := make([]uint32, n)
	for i := range out {
		out[i] = t0 + uint32(i)*step
	}
	return out
}

// Site keys join into locations through a peer_id (dual stack), through one
// client on both families, and through one client inside a /16; presence
// runs between announces at most max_gap apart, never past `stopped`; the
// sweep measures the time locations overlap.
func TestMIPLocationsJoinAndOverlap(t *testing.T) {
	c := DefaultConfig().MultiIP
	const t0 = 1_000_000_000
	rows := []mipSession{
		// Location 1: a dual-stack peer, a second torrent over IPv6 by the same
		// client and port, and a provider renumbering inside the /16.
		mipRow(1, "203.0.113.10", "p1", "qB", 1, every(t0, 1800, 5)),
		mipRow(1, "2001:db8:1:2::10", "p1", "qB", 1, every(t0+1, 1800, 5)),
		mipRow(1, "2001:db8:1:2::99", "p2", "qB", 2, every(t0, 1800, 5)),
		mipRow(1, "203.0.200.7", "p3", "qB", 3, every(t0+7200, 1800, 4)),
		// Location 2: another client elsewhere, 2 h beside location 1 (t0 to t0+3.5 h);
		// then stopped, and a lone announce 3 h later adds nothing.
		mipRow(1, "198.51.100.20", "p4", "TR", 4, append(every(t0+3600, 1800, 5), t0+3600+4*1800+3*3600), t0+3600+4*1800),
	}
	locs := mipLocations(rows, c)
	if len(locs) != 2 || len(locs[0].keys) != 3 || len(locs[1].keys) != 1 {
		t.Fatalf("locations %+v", locs)
	}
	tl := sweep(locs, 1, 2, nil)
	if tl.over != 2*3600 || tl.peak != 2 || len(tl.uas) != 2 || locs[1].present != 2*3600 || locs[0].present != 12600 {
		t.Fatalf("over %d s, peak %d, uas %v, present %d and %d s", tl.over, tl.peak, tl.uas, locs[0].present, locs[1].present)
	}
	// A gap beyond max_gap is no presence.
	far := []mipSession{mipRow(2, "203.0.113.5", "q", "qB", 1, []uint32{t0, t0 + 2*3600})}
	if l := mipLocations(far, c); l[0].present != 0 {
		t.Fatalf("presence across a %v gap: %d s", 2*time.Hour, l[0].present)
	}
}

// On the real engines: a member whose account runs on three lines at once
// (three cities, three clients) is reported; look-alikes are not — a NAT
// household, a carrier-NAT member whose address rotates under running
// sessions, a traveller whose laptop starts minutes after the home client's
// last announce, a dual-stack member (one peer over both families, and
// per-family peers of one client), a declared seedbox beside the home
// client, and an undeclared seedbox in a provider network where another
// member declared one.
func TestMultiIPReportsSharerNotLookAlikes(t *testing.T) {
	f := newFixture(t)
	at := func(h float64) time.Time { return until.Add(time.Duration(h * float64(time.Hour))) }
	half := 30 * time.Minute
	// 1: the sharer's home and two other lines, each with its own client.
	f.session(session{user: 1, torrent: 20, peer: "-qB4620-home1", ip: "203.0.113.10", start: at(-30), n: 60, every: half})
	f.session(session{user: 1, torrent: 21, peer: "-TR3000-lineB", ua: "Transmission/3.00", ip: "198.51.100.20", start: at(-20), n: 20, every: half})
	f.session(session{user: 1, torrent: 22, peer: "-lt0D80-lineC", ua: "rtorrent/0.9.8/0.13.8", ip: "192.0.2.30", start: at(-12), n: 12, every: half})
	// 2 and 3: a household behind one address, online together.
	f.session(session{user: 2, torrent: 30, peer: "-qB4620-nat2", ip: "203.0.113.50", start: at(-12), n: 20, every: half})
	f.session(session{user: 3, torrent: 31, peer: "-TR3000-nat3", ua: "Transmission/3.00", ip: "203.0.113.50", start: at(-11), n: 20, every: half})
	// 4: carrier NAT, the address changing every 3 h under two running
	// sessions, and a session started after a change; member 5 shares the pool.
	pool := []string{"100.64.3.5", "100.64.3.77", "100.64.3.9", "100.64.3.5"}
	for i := 0; i < 24; i++ {
		for j, p := range []string{"-qB4620-cg40", "-qB4620-cg41"} {
			ev := "none"
			if i == 0 {
				ev = "started"
			}
			f.rows = append(f.rows, ann{t: at(-12).Add(time.Duration(i)*half + time.Duration(j)*time.Minute), user: 4,
				torrent: uint64(40 + j), peer: p, ip: pool[i/6], event: ev})
		}
	}
	f.session(session{user: 4, torrent: 42, peer: "-qB4620-cg42", ip: pool[1], start: at(-5.5), n: 6, every: half})
	f.session(session{user: 5, torrent: 43, peer: "-qB4620-cg5", ip: pool[1], start: at(-8), n: 12, every: half})
	// 6: travel — the home client's last announce (its `stopped` lost), a
	// laptop at a hotel ten minutes later, home again after the trip.
	f.session(session{user: 6, torrent: 60, peer: "-qB4620-home6", ip: "203.0.113.60", start: at(-60), n: 20, every: half})
	f.session(session{user: 6, torrent: 61, peer: "-TR3000-lap6", ua: "Transmission/3.00", ip: "198.51.100.60", start: at(-60).Add(19*half + 10*time.Minute), n: 40, every: half, lastEvent: "stopped"})
	f.session(session{user: 6, torrent: 62, peer: "-qB4620-home6b", ip: "203.0.113.61", start: at(-60).Add(19*half + 10*time.Minute + 39*half + 10*time.Minute), n: 20, every: half})
	// 7: dual stack — one peer over IPv4 and IPv6 a second apart, and a
	// second torrent with a peer per family (same client and port).
	f.session(session{user: 7, torrent: 70, peer: "-qB4620-dual7", ip: "203.0.113.70", start: at(-12), n: 20, every: half})
	f.session(session{user: 7, torrent: 70, peer: "-qB4620-dual7", ip: "2001:db8:7:7::70", start: at(-12).Add(time.Second), n: 20, every: half})
	f.session(session{user: 7, torrent: 71, peer: "-qB4620-v4only", ip: "203.0.113.70", start: at(-11), n: 20, every: half})
	f.session(session{user: 7, torrent: 72, peer: "-qB4620-v6only", ip: "2001:db8:7:7::71", start: at(-11), n: 20, every: half})
	// 8: home client and an undeclared seedbox in a provider's /16 where
	// member 9 declared a box; 10: home client and its declared seedbox.
	f.session(session{user: 8, torrent: 80, peer: "-qB4620-home8", ip: "203.0.113.80", start: at(-12), n: 20, every: half})
	f.session(session{user: 8, torrent: 81, peer: "-lt0D80-box8", ua: "rtorrent/0.9.8/0.13.8", ip: "198.18.5.200", start: at(-12), n: 20, every: half})
	f.env.Exempt.AddSeedbox(9, netip.MustParsePrefix("198.18.7.0/24"))
	f.session(session{user: 10, torrent: 100, peer: "-qB4620-home10", ip: "203.0.113.100", start: at(-12), n: 20, every: half})
	f.session(session{user: 10, torrent: 101, peer: "-DE203s-box10", ua: "Deluge/2.0.3 libtorrent/1.2.5.0", ip: "198.19.9.9", start: at(-12), n: 20, every: half})
	f.env.Exempt.AddSeedbox(10, netip.MustParsePrefix("198.19.9.9/32"))

	got := f.run(MultiIP{})
	sharer := reported(t, got, 1)
	d := sharer.Evidence.Details
	if sharer.Severity() != SeverityCritical || d["locations_in_window"] != 3 || d["peak_locations_at_once"] != 3 {
		t.Errorf("sharer: severity %s, details %+v", sharer.Severity(), d)
	}
	if h := d["hours_present_together"].(float64); h != 13.5 {
		t.Errorf("sharer present together %.1f h, want 13.5 (lines B and C from -20 h to -6.5 h beside home)", h)
	}
	for _, id := range []uint64{2, 3, 4, 5, 6, 7, 8, 10} {
		notReported(t, got, id)
	}

	// With a geo database the three lines are three ASNs at once.
	f.env.Geo = testGeoDB(t)
	w := Window{From: until.Add(-MultiIP{}.Lookback(f.env.Config)), Until: until}
	fs, err := MultiIP{}.Run(t.Context(), f.env, w)
	if err != nil {
		t.Fatal(err)
	}
	var asn bool
	for _, x := range fs {
		for _, s := range x.Evidence.Signals {
			asn = asn || x.UserID == 1 && s.Name == "concurrent_asn_hours" && s.Fired
		}
	}
	if !asn {
		t.Errorf("concurrent ASNs not counted from the geo database: %+v", fs)
	}
}

// An incremental pass re-evaluates the member whose second line announced
// in the new rows (its overlap hours count over the whole lookback), not a
// dual-stack member, a member whose address changed under a running session
// (the new address is seen by every peer of the hour), nor a member whose
// lines overlapped only before.
func TestMultiIPTriggersOnANewOverlap(t *testing.T) {
	f := newFixture(t)
	half := 30 * time.Minute
	since := until.Add(-5 * time.Minute)
	// 1: home for 6 h; the second line from 3 h ago to the new rows.
	f.session(session{user: 1, torrent: 10, peer: "-qB4620-home1", ip: "203.0.113.10", start: until.Add(-6 * time.Hour), n: 12, every: half})
	f.session(session{user: 1, torrent: 11, peer: "-TR3000-away1", ua: "Transmission/3.00", ip: "198.51.100.11", start: until.Add(-3*time.Hour - 2*time.Minute), n: 7, every: half})
	// 2: two lines together a day ago, home alone now.
	f.session(session{user: 2, torrent: 20, peer: "-qB4620-home2", ip: "203.0.113.20", start: until.Add(-30 * time.Hour), n: 60, every: half})
	f.session(session{user: 2, torrent: 21, peer: "-TR3000-away2", ua: "Transmission/3.00", ip: "198.51.100.22", start: until.Add(-30 * time.Hour), n: 6, every: half})
	// 3: a redial — the session moves to a new address in the new rows, a
	// new session starts there.
	f.session(session{user: 3, torrent: 30, peer: "-qB4620-dyn3", ip: "203.0.113.30", start: until.Add(-3*time.Hour - 2*time.Minute), n: 6, every: half})
	f.rows = append(f.rows, ann{t: until.Add(-2 * time.Minute), user: 3, torrent: 30, peer: "-qB4620-dyn3", ip: "198.51.100.31", event: "none"})
	f.session(session{user: 3, torrent: 31, peer: "-qB4620-dyn3b", ip: "198.51.100.31", start: until.Add(-4 * time.Minute), n: 1, every: half})
	// 7: dual stack in the new rows.
	f.session(session{user: 7, torrent: 70, peer: "-qB4620-dual7", ip: "203.0.113.70", start: until.Add(-3*time.Hour - 3*time.Minute), n: 7, every: half})
	f.session(session{user: 7, torrent: 70, peer: "-qB4620-dual7", ip: "2001:db8:7:7::70", start: until.Add(-3*time.Hour - 3*time.Minute + time.Second), n: 7, every: half})
	f.write()

	r := &Runner{Env: f.env, Detectors: []Detector{MultiIP{}}}
	stats, found, err := r.Pass(t.Context(), time.Time{}, until, since)
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 1 || found[0].UserID != 1 {
		t.Fatalf("findings %+v, want member 1", found)
	}
	if st := stats[0]; st.Subjects == nil || *st.Subjects != 1 {
		t.Fatalf("re-evaluated %v members, want 1", st.Subjects)
	}
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
