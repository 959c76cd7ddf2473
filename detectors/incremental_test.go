package detectors

import (
	"testing"
	"time"
)

// An incremental pass re-evaluates only the members a Triggered detector's
// new rows point at, over the whole lookback: a counter jump and an
// offline-download client's fifth torrent in the last five minutes are found
// (its first four hours earlier still count), an honest seeder active in
// those minutes is not even read.
func TestIncrementalPassEvaluatesTriggeredMembersOverTheirLookback(t *testing.T) {
	f := newFixture(t)
	const gib = 1 << 30
	f.sizes(map[uint64]uint64{12: gib, 13: gib})
	since := until.Add(-5 * time.Minute)
	// Member 1 seeds honestly until the last minutes.
	f.session(session{user: 1, torrent: 13, peer: "-qB4620-honest", start: until.Add(-2 * time.Hour), n: 60, every: 2 * time.Minute,
		upRate: wobble(10 << 10), leechers: 2, seeders: 1})
	// Member 4 jumps its counter by 20× the size in the new rows.
	f.session(session{user: 4, torrent: 12, peer: "-qB4620-jump", start: since, n: 3, every: 2 * time.Minute,
		upRate: func(int) float64 { return float64(20*gib) / 120 }, leechers: 3, seeders: 2})
	// Member 6 jumps by 20× a torrent Postgres does not know, at an
	// unremarkable rate; its size is the `left` of member 7, a leecher who
	// uploads a little and announced only before the new rows.
	f.session(session{user: 6, torrent: 14, peer: "-qB4620-jump2", start: since.Add(-30 * time.Minute), n: 2, every: 30 * time.Minute,
		upRate: func(int) float64 { return float64(20*gib) / 1800 }, leechers: 1, seeders: 1})
	f.session(session{user: 7, torrent: 14, peer: "-qB4620-leech", start: until.Add(-3 * time.Hour), n: 5, every: 30 * time.Minute,
		upRate: wobble(1 << 10), downRate: wobble(1 << 10), left: gib, leechers: 1, seeders: 1})
	// Member 5, an offline-download client, completes and drops four
	// torrents hours ago and a fifth in the new rows.
	for i, s := range []time.Time{until.Add(-6 * time.Hour), until.Add(-5 * time.Hour), until.Add(-4 * time.Hour), until.Add(-3 * time.Hour), since} {
		tor := uint64(80 + i)
		f.session(session{user: 5, torrent: tor, peer: "-XL0012-cloud", ua: "Xunlei/0.0.1.2", ip: "192.0.2.9", start: s, n: 3, every: time.Minute,
			left: gib, downRate: constRate(100 << 20), lastEvent: "completed"})
		f.rows = append(f.rows, ann{t: s.Add(3 * time.Minute), user: 5, torrent: tor, peer: "-XL0012-cloud", ua: "Xunlei/0.0.1.2",
			ip: "192.0.2.9", event: "stopped", down: gib, secs: 60})
	}
	f.write()

	r := &Runner{Env: f.env, Detectors: []Detector{FakedUpload{}, CloudLeech{}}}
	stats, found, err := r.Pass(t.Context(), time.Time{}, until, since)
	if err != nil {
		t.Fatal(err)
	}
	byDetector := map[string][]uint64{}
	for _, x := range found {
		byDetector[x.Detector] = append(byDetector[x.Detector], x.UserID)
	}
	if got := byDetector["faked_upload"]; len(got) != 2 || got[0] != 4 || got[1] != 6 {
		t.Errorf("faked_upload findings = %v, want members 4 and 6", got)
	}
	for _, x := range found {
		if x.UserID != 6 {
			continue
		}
		for _, sig := range x.Evidence.Signals {
			if sig.Name == "counter_jump" && !sig.Fired {
				t.Errorf("member 6: counter jump on a torrent of unknown size did not fire (%+v)", sig)
			}
		}
	}
	if got := byDetector["cloud_leech"]; len(got) != 1 || got[0] != 5 {
		t.Errorf("cloud_leech findings = %v, want member 5 (five torrents of an offline-download client, four before the new rows)", got)
	}
	want := map[string]int{"faked_upload": 2, "cloud_leech": 1} // the honest seeder and the leecher are not triggered
	for _, st := range stats {
		if st.Subjects == nil || *st.Subjects != want[st.Detector] {
			t.Errorf("%s re-evaluated %v members, want %d", st.Detector, st.Subjects, want[st.Detector])
		}
	}
}
