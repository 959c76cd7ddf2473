package detectors

import (
	"math"
	"testing"
	"time"
)

// A leecher that takes a whole copy in the minutes before a bucket boundary
// announces its completion at once; its seeder reports that upload a few
// minutes after the boundary, over an interval that began before the
// download did. The seeder's delta belongs where the leecher downloaded:
// both buckets balance. A seeder whose swarm downloaded nothing over its
// interval has its delta shared by time.
func TestBalanceCellsShareStraddlingUploadByDownloads(t *testing.T) {
	f := newFixture(t)
	const gib = 1 << 30
	f.sizes(map[uint64]uint64{20: 4 * gib, 21: 4 * gib})
	boundary := until.Add(-6 * time.Hour) // 06:00, a bucket boundary
	f.rows = append(f.rows,
		ann{t: boundary.Add(-10 * time.Minute), user: 2, torrent: 20, peer: "-TR3000-lee", event: "started", left: 4 * gib},
		ann{t: boundary.Add(-2 * time.Minute), user: 2, torrent: 20, peer: "-TR3000-lee", event: "completed", down: 4 * gib, ddown: 4 * gib, secs: 480},
		ann{t: boundary.Add(-25 * time.Minute), user: 1, torrent: 20, peer: "-qB4620-seed", event: "started"},
		ann{t: boundary.Add(5 * time.Minute), user: 1, torrent: 20, peer: "-qB4620-seed", event: "none", up: 4 * gib, dup: 4 * gib, secs: 1800},
		// Torrent 21: nobody downloads; 30 minutes, 5 of them after the boundary.
		ann{t: boundary.Add(-25 * time.Minute), user: 3, torrent: 21, peer: "-qB4620-lone", event: "started"},
		ann{t: boundary.Add(5 * time.Minute), user: 3, torrent: 21, peer: "-qB4620-lone", event: "none", up: 6 * gib, dup: 6 * gib, secs: 1800},
	)
	f.write()
	cells, err := balanceCells(t.Context(), f.env, Window{From: until.Add(-24 * time.Hour), Until: until}, 6*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	before, after := unix(boundary.Add(-6*time.Hour)), unix(boundary)
	type sums struct{ up, acquired float64 }
	got := map[[2]uint64]*sums{}
	for _, c := range cells {
		k := [2]uint64{uint64(c.Bucket), c.TorrentID}
		if got[k] == nil {
			got[k] = &sums{}
		}
		got[k].up += c.Up
		got[k].acquired += math.Max(c.Down, math.Max(c.AcqPeers, c.AcqMember))
	}
	at := func(b uint32, torrent uint64) sums {
		if s := got[[2]uint64{uint64(b), torrent}]; s != nil {
			return *s
		}
		return sums{}
	}
	if s := at(before, 20); math.Abs(s.up-4*gib) > 1<<20 || math.Abs(s.acquired-4*gib) > 1<<20 {
		t.Errorf("torrent 20, bucket before the boundary: upload %.0f, acquired %.0f, want both %d", s.up, s.acquired, 4*gib)
	}
	if s := at(after, 20); s.up > 1<<20 {
		t.Errorf("torrent 20, bucket after the boundary: upload %.0f where nobody downloaded", s.up)
	}
	if s := at(after, 21); math.Abs(s.up-1*gib) > 1<<20 {
		t.Errorf("torrent 21, bucket after the boundary: upload %.0f, want %d (5 of 30 minutes)", s.up, 1*gib)
	}
	if s := at(before, 21); math.Abs(s.up-5*gib) > 1<<20 {
		t.Errorf("torrent 21, bucket before the boundary: upload %.0f, want %d (25 of 30 minutes)", s.up, 5*gib)
	}
}

func TestDownloadProfileShareBefore(t *testing.T) {
	p := downloadProfile{1: {{from: 100, at: 200, bytes: 1000}, {from: 150, at: 400, bytes: 500}}}
	for _, c := range []struct {
		from, boundary, at uint32
		want               float64
	}{
		{from: 100, boundary: 200, at: 400, want: 1100.0 / 1500}, // 1000 + 500·50/250 before, 1500 in all
		{from: 150, boundary: 300, at: 400, want: (500 + 500*150.0/250) / (500 + 500)},
		{from: 500, boundary: 600, at: 700, want: 0.5}, // nothing downloaded: by time
		{from: 100, boundary: 100, at: 400, want: 0},
	} {
		if got := p.shareBefore(1, c.from, c.boundary, c.at); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("shareBefore(%d, %d, %d) = %.6f, want %.6f", c.from, c.boundary, c.at, got, c.want)
		}
	}
}
