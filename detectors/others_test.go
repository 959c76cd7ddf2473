package detectors

import (
	"testing"
	"time"
)

func TestAccountSellingFlagsSaleNotTravel(t *testing.T) {
	f := newFixture(t)
	day := 24 * time.Hour
	// Member 1: evenings on one network with qBittorrent for a month, 31
	// days dormant, then mornings elsewhere with Transmission.
	// Member 2 travels: same client, another network for the last week.
	for d := 67; d >= 37; d-- {
		at := until.Add(-time.Duration(d) * day).Truncate(day).Add(19 * time.Hour)
		f.session(session{user: 1, torrent: 40, peer: "-qB4620-old", ip: "203.0.113.10", start: at, n: 4, every: 30 * time.Minute, left: 1 << 30, downRate: wobble(1 << 18)})
	}
	for d := 67; d >= 8; d-- {
		at := until.Add(-time.Duration(d) * day).Truncate(day).Add(19 * time.Hour)
		f.session(session{user: 2, torrent: 41, peer: "-qB4620-trav", ip: "198.51.100.10", start: at, n: 4, every: 30 * time.Minute, left: 1 << 30, downRate: wobble(1 << 18)})
	}
	for d := 6; d >= 1; d-- {
		at := until.Add(-time.Duration(d) * day).Truncate(day).Add(7 * time.Hour)
		f.session(session{user: 1, torrent: uint64(50 + d), peer: "-TR3000-new", ua: "Transmission/3.00", ip: "192.0.2.10", start: at, n: 4, every: 30 * time.Minute, left: 8 << 30, downRate: wobble(1 << 20)})
		at2 := until.Add(-time.Duration(d) * day).Truncate(day).Add(21 * time.Hour)
		f.session(session{user: 2, torrent: 41, peer: "-qB4620-trav", ip: "100.70.1.10", start: at2, n: 4, every: 30 * time.Minute, left: 1 << 30, downRate: wobble(1 << 18)})
	}
	got := f.run(AccountSelling{})
	sold := reported(t, got, 1)
	if sold.Evidence.Details["announces_after"] == nil || len(sold.Evidence.Series) != 2 {
		t.Errorf("selling evidence incomplete: %+v", sold.Evidence)
	}
	notReported(t, got, 2)
}

func TestNexusPHPBaselineLevels(t *testing.T) {
	f := newFixture(t)
	start := until.Add(-5 * time.Hour)
	f.session(session{user: 1, torrent: 1, peer: "-qB4620-fast", start: start, n: 3, every: 30 * time.Minute, upRate: constRate(150 << 20), leechers: 5})
	f.session(session{user: 2, torrent: 1, peer: "-qB4620-slow", start: start, n: 3, every: 30 * time.Minute, upRate: constRate(5 << 20), leechers: 0})
	got := f.run(NexusPHP{})
	reported(t, got, 1)
	notReported(t, got, 2) // level 1 skips the no-leecher rule
	f.env.Config.NexusPHP.Level = 3
	f.rows = nil
	got = f.run(NexusPHP{})
	reported(t, got, 2)
}
