package detectors

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// The collusion pairs an incremental pass adds up from its kept
// torrent-hours equal fu_collusion's with the pass's torrent filter, for
// every pair with a subject in it, window after window as it slides by an
// hour and for several sets of subjects — a downloader whose torrents count
// only where a subject uploaded — and a row that lands late in a kept hour
// is read.
func TestCollusionPairsKeptEqualQuery(t *testing.T) {
	f := newFixture(t)
	const mib = 1 << 20
	trade := func(at time.Time, torrent, up, down uint64, bytes uint64) {
		f.rows = append(f.rows,
			ann{t: at, user: up, torrent: torrent, peer: fmt.Sprintf("-qB4620-u%d", up), event: "none", dup: bytes, secs: 1800},
			ann{t: at.Add(7 * time.Minute), user: down, torrent: torrent, peer: fmt.Sprintf("-TR3000-d%d", down), event: "none", ddown: bytes, left: 1 << 30, secs: 1800})
	}
	for h := 0; h < 40; h++ {
		at := until.Add(time.Duration(h-40)*time.Hour + 11*time.Minute)
		if h%2 == 0 {
			trade(at, 100+uint64(h%6), 1, 2, uint64(50+h)*mib) // a pair on six torrents
		}
		if h%3 == 0 {
			trade(at.Add(5*time.Minute), 300+uint64(h%5), 5, 6, uint64(20+h)*mib) // another on five
		}
		if h%7 == 1 { // two uploaders: no single pair, but 7 uploaded on the torrent
			trade(at.Add(9*time.Minute), 300+uint64(h%5), 7, 9, 3*mib)
			trade(at.Add(9*time.Minute), 300+uint64(h%5), 8, 9, 4*mib)
		}
		if h%4 == 3 { // an honest seeder meets a lone leecher once in a while
			trade(at.Add(20*time.Minute), 200+uint64(h%8), 3, 4+uint64(h%3)*10, 9*mib)
		}
		trade(at.Add(30*time.Minute), 400, 10+uint64(h%3), 11+uint64(h%4), mib) // a busy swarm
		trade(at.Add(31*time.Minute), 400, 12, 13, mib)
	}
	f.write()
	key := func(r fuCollusionRow) string {
		return fmt.Sprintf("%d>%d:%d/%d/%d", r.UpUser, r.DownUser, r.Torrents, r.Bytes, r.TotalUp)
	}
	same := func(w Window, subjects []uint64) []string {
		t.Helper()
		f.env.subjects = subjects
		defer func() { f.env.subjects = nil }()
		got, err := collusionPairs(t.Context(), f.env, w, 2)
		if err != nil {
			t.Fatal(err)
		}
		var ref []fuCollusionRow
		p := windowParams(w)
		p["min_torrents"] = uint64(2)
		if err := selectRows(t.Context(), f.env, &ref, "fu_collusion", p); err != nil {
			t.Fatal(err)
		}
		var g, want []string
		for _, r := range got {
			g = append(g, key(r))
		}
		for _, r := range ref {
			if containsID(subjects, r.UpUser) || containsID(subjects, r.DownUser) {
				want = append(want, key(r))
			}
		}
		slices.Sort(g)
		slices.Sort(want)
		if !slices.Equal(g, want) {
			t.Fatalf("window to %s, subjects %v: kept %v, fu_collusion %v", w.Until, subjects, g, want)
		}
		return want
	}
	seen := map[string]bool{}
	for h := 0; h < 12; h++ {
		end := until.Add(-14*time.Hour + time.Duration(h)*time.Hour + 2*time.Minute)
		w := Window{From: end.Add(-20 * time.Hour), Until: end, ActiveSince: end.Add(-10 * time.Minute)}
		for _, s := range [][]uint64{{2}, {6}, {6, 7}, {1, 5}, {2, 3, 6, 7}, {9}} {
			for _, k := range same(w, s) {
				seen[fmt.Sprint(s)+k[:4]] = true
			}
		}
		if len(f.env.collusion.hours) < 18 {
			t.Fatalf("window to %s kept %d hours", end, len(f.env.collusion.hours))
		}
	}
	// 6 alone downloads from 5: its pairs count only the torrents a subject
	// uploaded on, so they differ between {6} and {6, 7}.
	if !seen["[1 5]1>2:"] || !seen["[6 7]5>6:"] || len(seen) < 6 {
		t.Fatalf("the fixture tests too little: %v", seen)
	}
	// A trade of the pair lands late in a kept hour, on a new torrent.
	w := Window{From: until.Add(-22*time.Hour + 3*time.Minute), Until: until.Add(-2*time.Hour + 3*time.Minute)}
	w.ActiveSince = w.Until.Add(-10 * time.Minute)
	before := same(w, []uint64{1})
	f.rows = nil
	trade(until.Add(-15*time.Hour+40*time.Minute), 110, 1, 2, 77*mib)
	f.write()
	if after := same(w, []uint64{1}); slices.Equal(before, after) || len(before) == 0 {
		t.Fatalf("the late trade did not change the pair: %v", after)
	}
}
