package detectors

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// The fingerprint population an incremental pass judges rarity against,
// read with the whole hours of the previous read kept in memory, equals a
// fresh read of the window, hour after hour as the window slides; the kept
// pairs are what the next read uses, and a row that lands late in a kept
// hour is read.
func TestFingerprintPopulationKeptEqualFresh(t *testing.T) {
	f := newFixture(t)
	start := until.Add(-50 * time.Hour)
	peers := []string{"-qB4620-", "-TR3000-", "-DE2110-", "-lt0D60-", "A2-1-37-0-"}
	keys := []string{"A1B2C3D4", "a1b2c3d", "12345678", "", "xY9z"}
	orders := []string{"", "info_hash,peer_id,port,uploaded,downloaded,left,key,numwant,compact", "info_hash,peer_id,event,port,corrupt"}
	for u := uint64(1); u <= 14; u++ {
		i := int(u)
		f.session(session{user: u, torrent: 10 + u%3, peer: peers[i%len(peers)], start: start.Add(time.Duration(i*37) * time.Minute),
			n: 70 + i*3, every: time.Duration(25+i*2) * time.Minute, upRate: wobble(100_000),
			keyOverride: keys[i%len(keys)], orderOverr: orders[i%len(orders)]})
		if u%4 == 0 { // a second client of the same member later on
			f.session(session{user: u, torrent: 20, peer: peers[(i+1)%len(peers)], start: start.Add(time.Duration(20+i) * time.Hour),
				n: 12, every: 50 * time.Minute, keyOverride: keys[(i+2)%len(keys)]})
		}
	}
	// Members whose last announce the sliding window leaves behind.
	f.session(session{user: 20, torrent: 10, peer: "-TR2940-", start: start.Add(2 * time.Hour), n: 10, every: 30 * time.Minute, keyOverride: "1a2b3c4d"})
	f.session(session{user: 21, torrent: 11, peer: "-qB4510-", start: start.Add(10 * time.Hour), n: 7, every: 30 * time.Minute, orderOverr: "info_hash,port,peer_id"})
	f.write()
	key := func(r fpRow) string {
		return fmt.Sprintf("%d|%s|%s|%s|%s|%d|%d", r.UserID, r.PeerPrefix, r.UA, r.KeyClass, r.ParamOrder, r.Announces, r.Uploaded)
	}
	keys2 := func(rows []fpRow) []string {
		out := make([]string, len(rows))
		for i, r := range rows {
			out[i] = key(r)
		}
		slices.Sort(out)
		return out
	}
	same := func(w Window) []fpRow {
		t.Helper()
		got, err := fingerprintPopulation(t.Context(), f.env, w)
		if err != nil {
			t.Fatal(err)
		}
		fresh := &Env{CH: f.env.CH, Config: f.env.Config, Exempt: f.env.Exempt}
		want, err := fingerprintPopulation(t.Context(), fresh, w)
		if err != nil {
			t.Fatal(err)
		}
		if g, w2 := keys2(got), keys2(want); !slices.Equal(g, w2) || len(w2) < 14 {
			t.Fatalf("window to %s: kept read %d pairs, fresh %d:\n%v\n%v", w.Until, len(g), len(w2), g, w2)
		}
		return got
	}
	has := func(rows []fpRow, user uint64) bool {
		return slices.ContainsFunc(rows, func(r fpRow) bool { return r.UserID == user })
	}
	var first, last []fpRow
	for h := 0; h < 16; h++ {
		end := until.Add(-24*time.Hour + time.Duration(h)*time.Hour + 2*time.Minute)
		got := same(Window{From: end.Add(-20 * time.Hour), Until: end})
		if h == 0 {
			first = got
		}
		last = got
		if c := f.env.fpCache; h > 0 && c.until-c.from != 20*3600 {
			t.Fatalf("window to %s: read %d s", end, c.until-c.from)
		}
	}
	if !has(first, 20) || !has(first, 21) || has(last, 20) || has(last, 21) {
		t.Fatal("no member leaves the sliding window: the fixture tests too little")
	}
	// What the previous read kept is what the next read uses: spoiled, it
	// shows.
	w := Window{From: until.Add(-20*time.Hour + 3*time.Minute), Until: until.Add(-7*time.Hour + 3*time.Minute)}
	f.env.fpCache.last[fpPair{user: 999, fam: "-qB", keyClass: "HEX8", order: ","}] = unix(until.Add(-10 * time.Hour))
	got, err := fingerprintPopulation(t.Context(), f.env, w)
	if err != nil {
		t.Fatal(err)
	}
	if !has(got, 999) {
		t.Fatal("the kept pairs were not used")
	}
	// Kept again from a fresh read, then a row of a new combination lands
	// late in a kept hour.
	f.env.fpCache = nil
	same(w)
	f.rows = []ann{{t: until.Add(-13*time.Hour - 10*time.Minute), user: 77, torrent: 10, peer: "-qB4620-late", key: "FEEDBEEF0", event: "none", secs: 1800}}
	f.write()
	w.Until = w.Until.Add(time.Hour)
	if got = same(w); !has(got, 77) {
		t.Fatal("the late row is not in the population")
	}
}

// The population an incremental pass judges rarity against classifies a
// client as the fingerprint query does: Transmission's `%x` key with its
// leading zero dropped (7 hex digits) is the 8-digit class, and an order
// with the `ipv6` a dual-stack client adds is the order without it —
// otherwise an honest Transmission or IPv6 member looks rare.
func TestFingerprintPopulationClassifiesLikeTheQuery(t *testing.T) {
	f := newFixture(t)
	start := until.Add(-10 * time.Hour)
	f.session(session{user: 1, torrent: 10, peer: "-TR3000-a", start: start, n: 6, every: 30 * time.Minute, keyOverride: "6a2c899"})
	f.session(session{user: 2, torrent: 10, peer: "-TR3000-b", start: start, n: 6, every: 30 * time.Minute, keyOverride: "6a2c8998"})
	f.session(session{user: 3, torrent: 11, peer: "-qB4620-c", start: start, n: 6, every: 30 * time.Minute,
		orderOverr: "info_hash,peer_id,port,uploaded,downloaded,left,corrupt,key,event,numwant,compact,ipv6"})
	f.session(session{user: 4, torrent: 11, peer: "-qB4620-d", start: start, n: 6, every: 30 * time.Minute,
		orderOverr: "info_hash,peer_id,port,uploaded,downloaded,left,corrupt,key,event,numwant,compact"})
	f.write()
	w := Window{From: until.Add(-24 * time.Hour), Until: until}
	var rows []fpRow
	if err := selectRows(t.Context(), f.env, &rows, "fu_fingerprint", windowParams(w)); err != nil {
		t.Fatal(err)
	}
	pop, err := fingerprintPopulation(t.Context(), f.env, w)
	if err != nil {
		t.Fatal(err)
	}
	class := func(rs []fpRow) map[uint64][2]string {
		out := map[uint64][2]string{}
		for _, r := range rs {
			out[r.UserID] = [2]string{r.KeyClass, r.ParamOrder}
		}
		return out
	}
	q, p := class(rows), class(pop)
	for u := uint64(1); u <= 4; u++ {
		if q[u] != p[u] {
			t.Errorf("member %d: query classes %q, population classes %q", u, q[u], p[u])
		}
	}
	if q[1][0] != q[2][0] || q[3][1] != q[4][1] {
		t.Errorf("7- and 8-digit keys %q / %q, orders with and without ipv6 %q / %q: want one class each", q[1][0], q[2][0], q[3][1], q[4][1])
	}
}
