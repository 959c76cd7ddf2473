package detectors

import (
	"fmt"
	"math"
	"testing"
	"time"
)

// The cells of a fit that reads its kept buckets from memory equal a fresh
// read's, hour after hour as the window slides — deltas that straddle a
// boundary, the fall of `left` carried into the next bucket (and into the
// first whole bucket from the window's partial head), several peers of a
// member, refused clients, upload deltas shared by the download profile —
// and a row that lands late in a kept bucket is read.
func TestBalanceCellsKeptEqualFresh(t *testing.T) {
	f := newFixture(t)
	const gib = 1 << 30
	start := until.Add(-60 * time.Hour)
	for i, s := range []session{
		{user: 1, torrent: 10, peer: "-qB4620-seedA", start: start, n: 140, every: 30 * time.Minute, upRate: wobble(300_000)},
		{user: 1, torrent: 10, peer: "-qB4620-seedB", start: start.Add(7 * time.Hour), n: 40, every: 47 * time.Minute, upRate: wobble(100_000)},
		{user: 2, torrent: 10, peer: "-TR3000-lee", start: start.Add(5 * time.Hour), n: 60, every: 37 * time.Minute, downRate: wobble(250_000), left: 30 * gib},
		{user: 3, torrent: 10, peer: "-DE2110-lee", start: start.Add(20 * time.Hour), n: 9, every: 2*time.Hour + 50*time.Minute, downRate: wobble(150_000), left: 8 * gib},
		{user: 4, torrent: 11, peer: "-qB4620-fake", start: start.Add(time.Hour), n: 100, every: 40 * time.Minute, upRate: wobble(500_000)},
		{user: 5, torrent: 11, peer: "-lt0D60-lee", start: start.Add(3 * time.Hour), n: 70, every: 55 * time.Minute, downRate: wobble(120_000), upRate: wobble(20_000), left: 25 * gib},
	} {
		s.ua = "qBittorrent/4.6.2"
		f.session(s)
		if i == 3 { // a refused client, seen by its `left` alone
			for j := len(f.rows) - s.n; j < len(f.rows); j++ {
				f.rows[j].refused = true
			}
		}
	}
	f.write()
	key := func(c balanceCell) string { return fmt.Sprintf("%d/%d/%d", c.Bucket, c.TorrentID, c.UserID) }
	same := func(w Window, kept *balanceRows) {
		t.Helper()
		got, err := balanceCellsKeeping(t.Context(), f.env, w, 6*time.Hour, kept)
		if err != nil {
			t.Fatal(err)
		}
		want, err := balanceCells(t.Context(), f.env, w, 6*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		idx := map[string]balanceCell{}
		for _, c := range want {
			idx[key(c)] = c
		}
		if len(got) != len(want) || len(want) < 12 {
			t.Fatalf("window to %s: %d cells kept, %d fresh", w.Until, len(got), len(want))
		}
		near := func(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Max(math.Abs(a), math.Abs(b))) }
		for _, g := range got {
			c, ok := idx[key(g)]
			if !ok || !near(g.Up, c.Up) || !near(g.Down, c.Down) || !near(g.AcqPeers, c.AcqPeers) || !near(g.AcqMember, c.AcqMember) || !near(g.MaxLeft, c.MaxLeft) {
				t.Fatalf("window to %s, cell %s: %+v, fresh %+v", w.Until, key(g), g, c)
			}
		}
	}
	kept := &balanceRows{}
	var carried int
	for h := 0; h < 14; h++ {
		end := until.Add(-20*time.Hour + time.Duration(h)*time.Hour + 2*time.Minute)
		same(Window{From: end.Add(-30 * time.Hour), Until: end}, kept)
		if len(kept.rows) == 0 || kept.until <= kept.from {
			t.Fatalf("window to %s kept nothing", end)
		}
		for _, r := range kept.rows {
			if r.UpBefore > 0 || r.DownBefore > 0 {
				carried++
			}
		}
		if len(kept.profile) == 0 {
			t.Fatalf("window to %s kept no download profile", end)
		}
	}
	if carried == 0 {
		t.Error("no kept row carries a delta that straddles a boundary: the fixture tests too little")
	}
	// The kept rows are what the next fit reads: spoiled, they show.
	w := Window{From: until.Add(-30*time.Hour + 3*time.Minute), Until: until.Add(3 * time.Minute)}
	j := 0
	for j < len(kept.rows) && kept.rows[j].Bucket != unix(until.Add(-18*time.Hour)) {
		j++
	}
	if j == len(kept.rows) {
		t.Fatal("no row kept of the bucket 18 h before the end")
	}
	mid := kept.rows[j]
	kept.rows[j].Up += gib
	got, err := balanceCellsKeeping(t.Context(), f.env, w, 6*time.Hour, kept)
	if err != nil {
		t.Fatal(err)
	}
	var up float64
	for _, c := range got {
		if c.Bucket == mid.Bucket && c.TorrentID == mid.TorrentID && c.UserID == mid.UserID {
			up = c.Up
		}
	}
	same(w, &balanceRows{}) // a fresh read, for reference
	if up < gib {
		t.Fatalf("the kept rows were not read: cell %d/%d/%d up %.0f", mid.Bucket, mid.TorrentID, mid.UserID, up)
	}
	// Re-kept from a fresh read, then a row lands late in a kept bucket.
	kept = &balanceRows{}
	same(w, kept)
	late := until.Add(-20 * time.Hour)
	f.rows = []ann{{t: late, user: 6, torrent: 10, peer: "-qB4620-late", event: "none", up: 3 * gib, dup: 3 * gib, secs: 1800}}
	f.write()
	w.Until = w.Until.Add(time.Hour)
	same(w, kept)
}
