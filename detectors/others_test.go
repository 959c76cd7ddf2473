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

func TestLeakedPasskeyFlagsManyNetworksNotTwo(t *testing.T) {
	f := newFixture(t)
	start := until.Add(-3 * time.Hour)
	uas := []string{"qBittorrent/4.6.2", "Transmission/3.00", "Deluge/2.1.1"}
	for i := 0; i < 7; i++ {
		ip := "10.0." + string(rune('0'+i)) + ".5"
		f.session(session{user: 1, torrent: uint64(60 + i), peer: "-qB4620-leak" + string(rune('a'+i)), ua: uas[i%3], ip: ip, start: start, n: 2, every: 10 * time.Minute})
	}
	f.session(session{user: 2, torrent: 70, peer: "-qB4620-a", ip: "10.9.0.5", start: start, n: 2, every: 10 * time.Minute})
	f.session(session{user: 2, torrent: 71, peer: "-qB4620-b", ip: "10.9.1.5", start: start, n: 2, every: 10 * time.Minute})
	got := f.run(LeakedPasskey{})
	leak := reported(t, got, 1)
	if leak.Kind != SubjectPasskey || leak.SubjectID != "user:1" {
		t.Errorf("leaked passkey subject = %s/%s", leak.Kind, leak.SubjectID)
	}
	notReported(t, got, 2)
}

func TestCloudLeechFlagsDropAfterCompletionNotSeeder(t *testing.T) {
	f := newFixture(t)
	start := until.Add(-20 * time.Hour)
	for i := 0; i < 3; i++ {
		s := start.Add(time.Duration(i) * 2 * time.Hour)
		f.session(session{user: 1, torrent: uint64(80 + i), peer: "A2-1-36-0-cloud", ua: "aria2/1.36.0", ip: "192.0.2.9", start: s, n: 3, every: time.Minute,
			left: 1 << 30, downRate: constRate(100 << 20), lastEvent: "completed"})
		f.rows = append(f.rows, ann{t: s.Add(3 * time.Minute), user: 1, torrent: uint64(80 + i), peer: "A2-1-36-0-cloud", ua: "aria2/1.36.0", ip: "192.0.2.9", event: "stopped", down: 1 << 30, secs: 60})
		f.session(session{user: 2, torrent: uint64(80 + i), peer: "-qB4620-seed", ip: "203.0.113.9", start: s, n: 30, every: 30 * time.Minute,
			left: 1 << 30, downRate: constRate(10 << 20), upRate: wobble(1 << 20), lastEvent: "completed"})
	}
	got := f.run(CloudLeech{})
	reported(t, got, 1)
	notReported(t, got, 2)
}

func TestGhostLeecherFlagsHiddenDownloadNotStalledLeecher(t *testing.T) {
	f := newFixture(t)
	start := until.Add(-10 * time.Hour)
	for i := 0; i < 2; i++ {
		// Member 1 claims nothing yet uploads; member 2 is stuck in a seedless swarm.
		f.session(session{user: 1, torrent: uint64(90 + i), peer: "-qB4620-ghost", start: start, n: 8, every: 30 * time.Minute, left: 1 << 30, upRate: wobble(50 << 10), seeders: 3, leechers: 4})
		f.session(session{user: 2, torrent: uint64(95 + i), peer: "-qB4620-stall", start: start, n: 8, every: 30 * time.Minute, left: 1 << 30})
	}
	got := f.run(GhostLeecher{})
	reported(t, got, 1)
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
