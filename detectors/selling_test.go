package detectors

import (
	"testing"
	"time"
)

// A sale seen through a single session before it (two announces) and three
// announces after is reported; a member who comes back after the same
// silence from a new home with an upgraded client (a new version of the
// same family) at the same hours is not.
func TestAccountSellingShortSidesAndUpgrades(t *testing.T) {
	f := newFixture(t)
	day := 24 * time.Hour
	at := func(d int, h time.Duration) time.Time { return until.Add(-time.Duration(d) * day).Truncate(day).Add(h) }
	f.session(session{user: 1, torrent: 10, peer: "-qB4620-old1", ip: "203.0.113.10", start: at(20, 19*time.Hour), n: 2, every: 30 * time.Minute})
	f.session(session{user: 1, torrent: 11, peer: "-TR3000-new1", ua: "Transmission/3.00", ip: "192.0.2.10", start: at(4, 7*time.Hour), n: 3, every: 30 * time.Minute})
	for d := 30; d >= 18; d-- {
		f.session(session{user: 2, torrent: 20, peer: "-qB4620-old2", ip: "203.0.113.20", start: at(d, 19*time.Hour), n: 4, every: 30 * time.Minute})
	}
	for d := 5; d >= 1; d-- {
		f.session(session{user: 2, torrent: 21, peer: "-qB4630-new2", ua: "qBittorrent/4.6.3", ip: "198.51.100.20", start: at(d, 19*time.Hour), n: 4, every: 30 * time.Minute})
	}
	got := f.run(AccountSelling{})
	sold := reported(t, got, 1)
	if sold.Evidence.Details["announces_before"] != uint64(2) || sold.Evidence.Details["announces_after"] != uint64(3) {
		t.Errorf("sale evidence %+v", sold.Evidence.Details)
	}
	notReported(t, got, 2)
}
