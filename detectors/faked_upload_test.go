package detectors

import (
	"testing"
	"time"
)

func TestFakedUploadFlagsFakerNotHonestSeeder(t *testing.T) {
	f := newFixture(t)
	const gib = 1 << 30
	f.sizes(map[uint64]uint64{10: gib, 11: gib, 12: gib})
	start := until.Add(-30 * time.Hour)
	// Member 1 fakes 2 MiB/s as a seeder on a torrent nobody leeches.
	f.session(session{user: 1, torrent: 10, peer: "-qB4620-faker", start: start, n: 40, every: 30 * time.Minute,
		upRate: constRate(2 << 20)})
	// Member 2 seeds torrent 11 to member 3, who really downloads it.
	f.session(session{user: 2, torrent: 11, peer: "-qB4620-honest", start: start, n: 40, every: 30 * time.Minute,
		upRate: wobble(10 << 10), leechers: 1, seeders: 1})
	f.session(session{user: 3, torrent: 11, peer: "-TR3000-leech", ua: "Transmission/3.00", start: start.Add(time.Minute), n: 40,
		every: 30 * time.Minute, downRate: wobble(10 << 10), left: gib, leechers: 1, seeders: 1})
	// Member 4 jumps its counter by 20× the size in one announce.
	f.session(session{user: 4, torrent: 12, peer: "-qB4620-jump", start: start, n: 3, every: 30 * time.Minute,
		upRate: func(i int) float64 { return float64(20*gib) / 1800 }, leechers: 3, seeders: 2})

	got := f.run(FakedUpload{})
	faker := reported(t, got, 1)
	fired := map[string]bool{}
	for _, s := range faker.Evidence.Signals {
		fired[s.Name] = s.Fired
	}
	for _, want := range []string{"no_leecher_upload", "unnatural_regularity", "swarm_balance"} {
		if !fired[want] {
			t.Errorf("faker: signal %s did not fire: %+v", want, faker.Evidence.Signals)
		}
	}
	if len(faker.Evidence.Torrents) == 0 || faker.Evidence.Torrents[0].TorrentID != 10 {
		t.Errorf("faker evidence lacks the per-torrent breakdown: %+v", faker.Evidence.Torrents)
	}
	jump := reported(t, got, 4)
	if jump.Severity() != SeverityCritical {
		t.Errorf("counter jump severity = %s, want critical", jump.Severity())
	}
	notReported(t, got, 2)
	notReported(t, got, 3)
}

func TestFingerprintMismatch(t *testing.T) {
	f := newFixture(t)
	start := until.Add(-5 * time.Hour)
	f.session(session{user: 1, torrent: 10, peer: "-qB4620-spoof", ua: "Transmission/3.00", start: start, n: 3, every: time.Hour, upRate: wobble(1 << 20), leechers: 2})
	f.session(session{user: 2, torrent: 10, peer: "-TR3000-real", ua: "Transmission/3.00", start: start, n: 3, every: time.Hour, upRate: wobble(1 << 20), leechers: 2})
	f.write()
	fps, _, err := fingerprints(t.Context(), f.env, Window{From: until.Add(-time.Hour * 24), Until: until})
	if err != nil {
		t.Fatal(err)
	}
	if fps[1].strength < 1 {
		t.Errorf("spoofed peer_id not flagged: %+v", fps[1])
	}
	if _, ok := fps[2]; ok {
		t.Errorf("consistent client flagged: %+v", fps[2])
	}
}
