package enforce_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"sort"
	"testing"
	"time"

	"github.com/ratioguard/ratioguard/enforce"
	"github.com/ratioguard/ratioguard/importer/site"
)

// importSite imports a site file given as a Go value.
func (f *fixture) importSite(doc any) site.Summary {
	f.t.Helper()
	b, err := json.Marshal(doc)
	if err != nil {
		f.t.Fatal(err)
	}
	sf, err := site.Parse(bytes.NewReader(b))
	if err != nil {
		f.t.Fatal(err)
	}
	s, err := site.Import(f.ctx, f.pg.Pool, sf, site.Options{})
	if err != nil {
		f.t.Fatal(err)
	}
	return s
}

// plannedBy lists "member rule" of every planned row, sorted.
func plannedBy(res *enforce.Result) []string {
	var out []string
	for _, r := range res.Planned {
		out = append(out, r.Member+" "+r.Rule)
	}
	sort.Strings(out)
	return out
}

func (f *fixture) dryRun() *enforce.Result {
	f.t.Helper()
	res, err := f.runner(true).Once(f.ctx)
	if err != nil {
		f.t.Fatal(err)
	}
	return res
}

// The day-one problem in miniature. Three members of a site switch to
// ratioguard; 21 days later ratioguard has seen each download 40 GiB and
// upload 4 GiB (ratio 0.10). On the site, ann and ben are fine (years of
// seeding: ratio 2.66 and 3.0) and cal is not (0.06); cal also left a
// torrent completed 5 days before the switch after 10 h of seeding, while
// ann seeded hers 50 h on the site and 30 h on ratioguard. Judged on the 21
// days as a whole record, all three go on ratio watch; with no opening
// balance nobody is judged on a past ratioguard never saw; with the site's
// opening balances and snatches, exactly what the site's own rules say: cal
// on ratio watch and warned for the hit-and-run.
func TestDayOneAfterCutover(t *testing.T) {
	f := newFixture(t)
	f.cfg.Bonus.PointsPerHour = 0
	joined := time.Now().Add(-2 * 365 * 24 * time.Hour).Unix()
	hash := func(b byte) string { return hex.EncodeToString(bytes.Repeat([]byte{b}, 20)) }
	members := []map[string]any{}
	for i, name := range []string{"ann", "ben", "cal"} {
		members = append(members, map[string]any{"name": name, "passkey": hex.EncodeToString(bytes.Repeat([]byte{byte(i + 1)}, 16)),
			"class": "User", "created_ts": joined})
	}
	torrents := []map[string]any{
		{"info_hash": hash(1), "name": "ann's, seeded on both trackers", "size": 4 * gib},
		{"info_hash": hash(2), "name": "cal's, left after 10 h", "size": 4 * gib},
		{"info_hash": hash(3), "name": "ben's, snatched on ratioguard", "size": 40 * gib},
	}
	doc := map[string]any{"members": members, "torrents": torrents}
	if s := f.importSite(doc); s.History.MembersObserving != 3 {
		t.Fatalf("cutover import: %+v", s.History)
	}
	var cutover time.Time
	f.scalar(&cutover, `SELECT max(observed_from) FROM ledger_site_history`)
	f.clock = enforce.NewFakeClock(cutover.Add(21 * 24 * time.Hour))
	id := map[string]int64{}
	tid := map[string]int64{}
	for _, n := range []string{"ann", "ben", "cal"} {
		var v int64
		f.scalar(&v, `SELECT id FROM users WHERE name = $1`, n)
		id[n] = v
		f.totals(v, 4*gib, 40*gib)
	}
	for i, n := range []string{"ann", "cal", "ben"} {
		var v int64
		f.scalar(&v, `SELECT id FROM torrents WHERE info_hash = decode($1, 'hex')`, hash(byte(i+1)))
		tid[n] = v
	}
	day := 24 * time.Hour
	// ann keeps seeding her torrent from the switch: ratioguard sees no download.
	f.snatch(snatch{user: id["ann"], torrent: tid["ann"], seedtime: 30 * time.Hour, first: cutover, last: cutover.Add(2 * day)})
	// ben snatches a torrent on ratioguard and seeds it.
	f.snatch(snatch{user: id["ben"], torrent: tid["ben"], downloaded: 40 * gib, seedtime: 100 * time.Hour,
		snatchedAt: at(cutover.Add(day)), first: cutover.Add(day), last: cutover.Add(6 * day)})

	// The problem: the 21 days judged as the whole record (what ratioguard
	// did before site records, as for a member who joined at the switch).
	f.exec(`UPDATE users SET created_at = $1`, cutover.Add(time.Second))
	if got := plannedBy(f.dryRun()); !equal(got, []string{"ann ratio", "ben ratio", "cal ratio"}) {
		t.Fatalf("21 days as the whole record: planned %v", got)
	}
	f.importSite(doc) // the site's join times back

	// No opening balance: the past before the switch is unseen, not judged.
	if res := f.dryRun(); len(res.Planned) != 0 || res.UnseenPast != 3 {
		t.Fatalf("without opening balances: planned %v, %d members' past unseen", plannedBy(res), res.UnseenPast)
	}

	// The site's record: lifetime figures and the snatches of the last weeks.
	completed := cutover.Add(-5 * day).Unix()
	members[0]["opening"] = map[string]any{"uploaded": 900 * gib, "downloaded": 300 * gib, "seedtime_s": 9_000_000, "bonus": 5000}
	members[0]["snatches"] = []map[string]any{{"info_hash": hash(1), "completed_ts": completed, "seedtime_s": 50 * 3600,
		"last_seeded_ts": cutover.Unix(), "downloaded": 4 * gib}}
	members[1]["opening"] = map[string]any{"uploaded": 1200 * gib, "downloaded": 400 * gib}
	members[2]["opening"] = map[string]any{"uploaded": 10 * gib, "downloaded": 200 * gib}
	members[2]["snatches"] = []map[string]any{{"info_hash": hash(2), "completed_ts": completed, "seedtime_s": 10 * 3600,
		"last_seeded_ts": completed + 10*3600}} // Gazelle's xbt_snatched says no amount
	if s := f.importSite(doc); s.History.OpeningsWritten != 3 || s.History.SnatchesWritten != 2 {
		t.Fatalf("opening import: %+v", s.History)
	}
	dry := f.dryRun()
	if got := plannedBy(dry); !equal(got, []string{"cal hnr", "cal ratio"}) || dry.UnseenPast != 0 {
		t.Fatalf("with the site's record: planned %v, %d members' past unseen", got, dry.UnseenPast)
	}
	res := f.runTwice()
	if len(res.Planned) != len(dry.Planned) {
		t.Fatalf("pass planned %v, dry run %v", plannedBy(res), plannedBy(dry))
	}
	if m := f.member(id["cal"]); m.Watch != "watch" {
		t.Fatalf("cal after the pass: %+v", m)
	}
	var warned int64
	f.scalar(&warned, `SELECT torrent_id FROM enforce_hnr_warnings WHERE user_id = $1`, id["cal"])
	if warned != tid["cal"] {
		t.Fatalf("cal warned for torrent %d, want %d", warned, tid["cal"])
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
