package detectors

import (
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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

func TestTVDAndVersions(t *testing.T) {
	var a, b [24]float64
	a[1], b[2] = 1, 5
	if d := tvd24(a, b); d != 1 {
		t.Fatalf("tvd disjoint = %v", d)
	}
	for _, c := range []struct {
		prefix, rest, ua string
		disagree         bool
	}{
		{"-qB", "4670-", "qBittorrent/4.6.7", false},
		{"-lt", "0G00-", "rtorrent/0.16.0/0.16.0", false},
		{"-UT", "355W-", "uTorrent/355(46206)", false},
		{"-DE", "211s-", "Deluge/2.1.1 libtorrent/2.0.9.0", false},
		{"A2-", "1-37-", "aria2/1.37.0", false},
		{"-TR", "4060-", "Transmission/4.0.6", false},
		{"-qB", "4390-", "qBittorrent/4.6.7", true},
		{"-TR", "3000-", "Transmission/4.0.6", true},
		// rTorrent's peer_id carries libtorrent-rakshasa's version, its UA both.
		{"-lt", "0D80-", "rtorrent/0.9.8/0.13.8", false},
		{"-lt", "0C80-", "rtorrent/0.9.8/0.13.8", true},
		{"-DE", "203s-", "Deluge/2.0.3 libtorrent/1.2.5.0", false},
	} {
		if got := versionsDisagree(peerVersion(c.prefix, c.rest), uaVersions(c.ua)); got != c.disagree {
			t.Errorf("%s%s vs %s: disagree = %v", c.prefix, c.rest, c.ua, got)
		}
	}
}

func TestChangePointNeedsACleanSplit(t *testing.T) {
	day := 24 * time.Hour
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	era := func(area string, from, to int) *sellEra {
		return &sellEra{area: area, client: "c", first: t0.Add(time.Duration(from) * day), last: t0.Add(time.Duration(to) * day), n: 10}
	}
	cut, ok := changePoint([]*sellEra{era("home", 0, 10), era("new", 15, 20)})
	if !ok || cut.at.Sub(cut.lastBefore) != 5*day || len(cut.before) != 1 {
		t.Fatalf("sale not split: %+v %v", cut, ok)
	}
	// A trip: the home network is used again afterwards, so no clean split.
	if cut, ok := changePoint([]*sellEra{era("home", 0, 20), era("trip", 5, 9)}); ok {
		t.Fatalf("trip split: %+v", cut)
	}
}

func TestActiveUsersFullOrIncremental(t *testing.T) {
	from := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	w := Window{From: from, Until: from.Add(48 * time.Hour)}
	env := &Env{}
	q, err := queryText(t.Context(), env, "fu_peers", windowParams(w))
	if err != nil || !strings.Contains(q, "FROM user_hour") || strings.Contains(q, "@active_users") {
		t.Errorf("full pass does not take the rollup's members (%v):\n%s", err, q)
	}
	w.ActiveSince = w.Until.Add(-5 * time.Minute)
	p := windowParams(w)
	env.active = &activeCache{since: unix(w.ActiveSince), until: unix(w.Until), ids: []uint64{7, 9}}
	q, err = queryText(t.Context(), env, "fu_peers", p)
	if err != nil || !strings.Contains(q, "arrayJoin(@active_list)") || len(p["active_list"].([]uint64)) != 2 {
		t.Errorf("incremental pass does not take the members active since then (%v):\n%s", err, q)
	}
}

func TestPeriodicWindow(t *testing.T) {
	cfg := DefaultConfig()
	h := time.Date(2025, 6, 29, 13, 0, 0, 0, time.UTC)
	full := Window{From: h.Add(-60 * 24 * time.Hour), Until: h.Add(7 * time.Minute)}
	full.ActiveSince = full.From
	if w, due := periodicWindow(AccountSelling{}, cfg, full, time.Time{}); !due || !w.ActiveSince.Equal(full.From) {
		t.Errorf("full pass: due %v, active since %v", due, w.ActiveSince)
	}
	for _, d := range []Detector{AccountSelling{}, GhostLeecher{}} {
		b := h.Add(CadenceOffset(d.Name(), time.Hour)) // its boundary in the 13:00 hour
		inc := full
		inc.Until = b.Add(7 * time.Minute)
		inc.ActiveSince = inc.Until.Add(-5 * time.Minute) // b+2m .. b+7m: no boundary crossed
		if _, due := periodicWindow(d, cfg, inc, time.Time{}); due {
			t.Errorf("%s ran in an incremental pass that crossed no boundary", d.Name())
		}
		if _, due := periodicWindow(FakedUpload{}, cfg, inc, time.Time{}); !due {
			t.Error("faked_upload skipped in an incremental pass")
		}
		inc.Until = b.Add(2 * time.Minute) // b-3m .. b+2m crosses b
		inc.ActiveSince = inc.Until.Add(-5 * time.Minute)
		if w, due := periodicWindow(d, cfg, inc, time.Time{}); !due || !w.ActiveSince.Equal(b.Add(-time.Hour)) {
			t.Errorf("%s's hourly run: due %v, active since %v, want %v", d.Name(), due, w.ActiveSince, b.Add(-time.Hour))
		}
		if off := CadenceOffset(d.Name(), time.Hour); off > 0 {
			inc.Until = h.Add(2 * time.Minute) // 12:57 .. 13:02 crosses the clock hour only
			inc.ActiveSince = inc.Until.Add(-5 * time.Minute)
			if _, due := periodicWindow(d, cfg, inc, time.Time{}); due && off > 2*time.Minute {
				t.Errorf("%s ran at the clock hour, not at its offset %v", d.Name(), off)
			}
		}
	}
	inc := full
	inc.ActiveSince = full.Until.Add(-5 * time.Minute)
	cfg.AccountSelling.Cadence.Duration = 0
	if _, due := periodicWindow(AccountSelling{}, cfg, inc, time.Time{}); !due {
		t.Error("cadence 0 skipped a pass")
	}
}

// The hourly periodic detectors' boundaries fall at different points of the
// hour and not on the clock hour, where faked_upload makes its swarm-balance
// fit, so no pass carries all three.
func TestCadenceOffsetsSpreadTheHourlyWork(t *testing.T) {
	sell, ghost := CadenceOffset("account_selling", time.Hour), CadenceOffset("ghost_leecher", time.Hour)
	if sell == ghost || sell == 0 || ghost == 0 || sell >= time.Hour || ghost >= time.Hour {
		t.Fatalf("offsets within the hour: account_selling %v, ghost_leecher %v", sell, ghost)
	}
	if got := CadenceOffset("account_selling", time.Hour); got != sell || sell%time.Second != 0 {
		t.Errorf("offset %v then %v: not a stable whole second", sell, got)
	}
	if got := CadenceOffset("account_selling", 0); got != 0 {
		t.Errorf("offset of cadence 0 = %v", got)
	}
}

func TestSplitPeriodicPutsCadencedDetectorsApart(t *testing.T) {
	cfg := DefaultConfig()
	ds, err := ByName(nil)
	if err != nil {
		t.Fatal(err)
	}
	every, periodic := SplitPeriodic(cfg, ds)
	if got := strings.Join(names(periodic), ","); got != "account_selling,ghost_leecher" || len(every) != len(ds)-2 {
		t.Fatalf("periodic = %s, every = %d of %d; want account_selling and ghost_leecher apart", got, len(every), len(ds))
	}
	cfg.AccountSelling.Cadence.Duration = 0 // every pass
	cfg.GhostLeecher.Cadence.Duration = 0
	if _, periodic := SplitPeriodic(cfg, ds); len(periodic) != 0 {
		t.Fatalf("with cadence 0, periodic = %v, want none", names(periodic))
	}
}

func names(ds []Detector) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.Name()
	}
	return out
}
