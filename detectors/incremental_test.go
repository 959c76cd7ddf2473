package detectors

import (
	"testing"
	"time"
)

// An incremental pass re-evaluates only the members a Triggered detector's
// new rows point at, over the whole lookback: a counter jump and a second
// dump in the last five minutes are found (the first dump hours earlier
// still counts), an honest seeder active in those minutes is not even read.
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
	// Member 5 completes and drops a torrent three hours ago and another
	// one in the new rows.
	for i, s := range []time.Time{until.Add(-3 * time.Hour), since} {
		tor := uint64(80 + i)
		f.session(session{user: 5, torrent: tor, peer: "A2-1-36-0-cloud", ua: "aria2/1.36.0", ip: "192.0.2.9", start: s, n: 3, every: time.Minute,
			left: gib, downRate: constRate(100 << 20), lastEvent: "completed"})
		f.rows = append(f.rows, ann{t: s.Add(3 * time.Minute), user: 5, torrent: tor, peer: "A2-1-36-0-cloud", ua: "aria2/1.36.0",
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
	if got := byDetector["faked_upload"]; len(got) != 1 || got[0] != 4 {
		t.Errorf("faked_upload findings = %v, want member 4 only", got)
	}
	if got := byDetector["cloud_leech"]; len(got) != 1 || got[0] != 5 {
		t.Errorf("cloud_leech findings = %v, want member 5 (two dumps, one before the new rows)", got)
	}
	for _, st := range stats {
		if st.Subjects == nil || *st.Subjects != 1 {
			t.Errorf("%s re-evaluated %v members, want 1 (the honest seeder is not triggered)", st.Detector, st.Subjects)
		}
	}
}
