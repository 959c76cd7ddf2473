package site

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ratioguard/ratioguard/internal/testenv"
)

const gib = int64(1) << 30

type ledgerTotals struct {
	Up, Down, Seed int64
	Bonus          float64
}

func totalsOf(t *testing.T, pool *pgxpool.Pool, name string) ledgerTotals {
	t.Helper()
	var l ledgerTotals
	err := pool.QueryRow(context.Background(), `SELECT COALESCE(t.credited_uploaded, 0)::bigint, COALESCE(t.credited_downloaded, 0)::bigint,
		COALESCE(t.seedtime_seconds, 0), COALESCE(t.bonus_points, 0)::float8
		FROM users u LEFT JOIN ledger_user_totals t ON t.user_id = u.id WHERE u.name = $1`, name).Scan(&l.Up, &l.Down, &l.Seed, &l.Bonus)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func count(t *testing.T, pool *pgxpool.Pool, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// credit stands in for ingest: ratioguard credits the member's announces.
func credit(t *testing.T, pool *pgxpool.Pool, name string, uploaded int64) {
	t.Helper()
	if _, err := pool.Exec(context.Background(), `INSERT INTO ledger_user_totals AS t (user_id, credited_uploaded, announces)
		SELECT id, $2, 3 FROM users WHERE name = $1
		ON CONFLICT (user_id) DO UPDATE SET credited_uploaded = t.credited_uploaded + EXCLUDED.credited_uploaded,
			announces = t.announces + EXCLUDED.announces`, name, uploaded); err != nil {
		t.Fatal(err)
	}
}

func parseErr(t *testing.T, doc any) error {
	t.Helper()
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Parse(bytes.NewReader(b))
	return err
}

func userID(t *testing.T, pool *pgxpool.Pool, name string) int64 {
	t.Helper()
	return int64(count(t, pool, `SELECT id FROM users WHERE name = $1`, name))
}

func TestImportOpeningBalances(t *testing.T) {
	pg := testenv.Postgres(t)
	doc := testdata(t)
	alice, bob := doc["members"][0], doc["members"][1]
	alice["opening"] = map[string]any{"uploaded": 500 * gib, "downloaded": 100 * gib, "seedtime_s": 3_600_000, "bonus": 1234.5}
	bob["opening"] = map[string]any{"uploaded": 1, "downloaded": 2}

	s := run(t, pg.Pool, load(t, doc))
	if h := s.History; h.Openings != 2 || h.OpeningsWritten != 2 || h.OpeningsRevised != 0 || h.MembersObserving != 4 {
		t.Fatalf("first import: %+v", h)
	}
	if got, want := totalsOf(t, pg.Pool, "alice"), (ledgerTotals{500 * gib, 100 * gib, 3_600_000, 1234.5}); got != want {
		t.Fatalf("alice's totals %+v, want %+v", got, want)
	}
	if got := totalsOf(t, pg.Pool, "bob"); got != (ledgerTotals{Up: 1, Down: 2}) {
		t.Fatalf("bob's totals %+v", got)
	}
	const adjustments = `SELECT count(*) FROM ledger_adjustments WHERE reason = 'opening balance' AND actor = 'import site'`
	if n := count(t, pg.Pool, adjustments); n != 2 {
		t.Fatalf("%d opening adjustments, want 2", n)
	}

	// The same file again: nothing written.
	before := digest(t, pg.Pool)
	s = run(t, pg.Pool, load(t, doc))
	if h := s.History; h.Openings != 2 || h.OpeningsWritten+h.OpeningsRevised+h.OpeningsKept != 0 || count(t, pg.Pool, adjustments) != 2 ||
		digest(t, pg.Pool) != before {
		t.Fatalf("re-import: %+v", h)
	}

	// The site's figures moved before the switch: adjusted by the difference.
	alice["opening"] = map[string]any{"uploaded": 510 * gib, "downloaded": 100 * gib, "seedtime_s": 3_600_000, "bonus": 1000}
	s = run(t, pg.Pool, load(t, doc))
	if h := s.History; h.OpeningsRevised != 1 || h.OpeningsWritten != 0 {
		t.Fatalf("revised: %+v", h)
	}
	if got, want := totalsOf(t, pg.Pool, "alice"), (ledgerTotals{510 * gib, 100 * gib, 3_600_000, 1000}); got != want {
		t.Fatalf("alice's totals after the revision %+v, want %+v", got, want)
	}
	var up int64
	var bonus float64
	if err := pg.Pool.QueryRow(context.Background(), `SELECT credited_uploaded::bigint, bonus_points::float8 FROM ledger_adjustments
		WHERE idempotency_key = $1`, openingKey(userID(t, pg.Pool, "alice"), 2)).Scan(&up, &bonus); err != nil || up != 10*gib || bonus != -234.5 {
		t.Fatalf("revision adjustment: %d bytes, %g points, %v", up, bonus, err)
	}

	// Once ratioguard has credited alice, the site's figures include it (the
	// write-back): another opening is kept out, and said so.
	credit(t, pg.Pool, "alice", 2*gib)
	alice["opening"] = map[string]any{"uploaded": 530 * gib, "downloaded": 100 * gib, "seedtime_s": 3_600_000, "bonus": 1000}
	s = run(t, pg.Pool, load(t, doc))
	if h := s.History; h.OpeningsKept != 1 || h.MembersKept != 1 || h.OpeningsRevised != 0 {
		t.Fatalf("after traffic: %+v", h)
	}
	if got := totalsOf(t, pg.Pool, "alice"); got.Up != 512*gib {
		t.Fatalf("alice's uploaded after a kept opening: %d", got.Up)
	}

	// A dry run writes nothing.
	doc["members"][2]["opening"] = map[string]any{"uploaded": gib, "downloaded": gib}
	if _, err := Import(context.Background(), pg.Pool, load(t, doc), Options{DryRun: true}); err != nil {
		t.Fatal(err)
	}
	if got := totalsOf(t, pg.Pool, "carol"); got != (ledgerTotals{}) {
		t.Fatalf("dry run wrote carol's totals %+v", got)
	}

	for _, bad := range []map[string]any{{"uploaded": -1, "downloaded": 0}, {"downloaded": 1}, {"uploaded": 1, "downloaded": 1, "seedtime": 5},
		{"uploaded": 1, "downloaded": 1, "bonus": -3}} {
		alice["opening"] = bad
		var inv *InvalidError
		if err := parseErr(t, doc); !errors.As(err, &inv) || !strings.Contains(err.Error(), "opening") {
			t.Errorf("opening %v: %v", bad, err)
		}
	}
}

func TestImportSnatches(t *testing.T) {
	pg := testenv.Postgres(t)
	ctx := context.Background()
	doc := testdata(t)
	alice := doc["members"][0]
	storm, half := "f8c154180acca5cdad774be8f926842593880c70", "00112233445566778899aabbccddeeff00112233"
	alice["snatches"] = []map[string]any{
		{"info_hash": storm, "completed_ts": 1790000000, "seedtime_s": 7200, "last_seeded_ts": 1790100000, "uploaded": 5, "downloaded": 7533877519},
		{"info_hash": strings.ToUpper(half), "completed_ts": 1790000000, "seedtime_s": 0},
	}
	s := run(t, pg.Pool, load(t, doc))
	if h := s.History; h.SnatchMembers != 1 || h.Snatches != 2 || h.SnatchesWritten != 2 {
		t.Fatalf("first import: %+v", h)
	}
	// ratioguard then sees alice seed the torrent an hour: the record adds up.
	if _, err := pg.Pool.Exec(ctx, `INSERT INTO ledger_user_torrents (user_id, torrent_id, seedtime_seconds, first_announce_at, last_announce_at)
		SELECT u.id, t.id, 3600, now(), now() FROM users u, torrents t WHERE u.name = 'alice' AND t.name = 'Storm Train 01-12'`); err != nil {
		t.Fatal(err)
	}
	var seed, site int64
	var fromSite bool
	if err := pg.Pool.QueryRow(ctx, `SELECT r.seedtime_seconds, r.site_seedtime_seconds, r.from_site FROM ledger_snatch_record r
		JOIN torrents t ON t.id = r.torrent_id WHERE t.name = 'Storm Train 01-12'`).Scan(&seed, &site, &fromSite); err != nil ||
		seed != 10800 || site != 7200 || !fromSite {
		t.Fatalf("snatch record: seedtime %d (site %d, from site %v), %v", seed, site, fromSite, err)
	}

	s = run(t, pg.Pool, load(t, doc))
	if h := s.History; h.SnatchesWritten != 0 || h.SnatchesRemoved != 0 {
		t.Fatalf("re-import: %+v", h)
	}
	// The list is the member's whole history: one changed, one gone.
	alice["snatches"] = []map[string]any{{"info_hash": storm, "completed_ts": 1790000000, "seedtime_s": 9000}}
	if s = run(t, pg.Pool, load(t, doc)); s.History.SnatchesWritten != 1 || s.History.SnatchesRemoved != 1 {
		t.Fatalf("replaced: %+v", s.History)
	}
	credit(t, pg.Pool, "alice", 1)
	alice["snatches"] = []map[string]any{}
	if s = run(t, pg.Pool, load(t, doc)); s.History.MembersKept != 1 || s.History.SnatchesRemoved != 0 {
		t.Fatalf("after traffic: %+v", s.History)
	}
	if n := count(t, pg.Pool, `SELECT count(*) FROM ledger_site_snatches`); n != 1 {
		t.Fatalf("%d site snatches kept, want 1", n)
	}

	// A snatch of a torrent ratioguard does not know, nothing imported.
	doc["members"][1]["snatches"] = []map[string]any{{"info_hash": strings.Repeat("ab", 20), "completed_ts": 1790000000, "seedtime_s": 1}}
	before := digest(t, pg.Pool)
	_, err := Import(ctx, pg.Pool, load(t, doc), Options{})
	var inv *InvalidError
	if !errors.As(err, &inv) || !strings.Contains(err.Error(), `members[1] "bob": snatches[0].info_hash: no torrent abab`) || digest(t, pg.Pool) != before {
		t.Fatalf("unknown torrent: %v", err)
	}
	for _, bad := range []map[string]any{{"info_hash": storm, "seedtime_s": 1}, {"info_hash": "zz", "completed_ts": 1790000000, "seedtime_s": 1},
		{"info_hash": storm, "completed_ts": 1790000000000, "seedtime_s": 1}, {"info_hash": storm, "completed_ts": 1790000000, "seedtime_s": -1}} {
		doc["members"][1]["snatches"] = []map[string]any{bad}
		if err := parseErr(t, doc); !errors.As(err, &inv) || !strings.Contains(err.Error(), "snatches[0].") {
			t.Errorf("snatch %v: %v", bad, err)
		}
	}
	doc["members"][1]["snatches"] = []map[string]any{{"info_hash": storm, "completed_ts": 1790000000, "seedtime_s": 1},
		{"info_hash": strings.ToUpper(storm), "completed_ts": 1790000000, "seedtime_s": 1}}
	if err := parseErr(t, doc); err == nil || !strings.Contains(err.Error(), "also the info_hash of snatches[0]") {
		t.Errorf("twice the same torrent: %v", err)
	}
}

func TestImportPeers(t *testing.T) {
	pg := testenv.Postgres(t)
	doc := testdata(t)
	bob := doc["members"][1]
	storm := "f8c154180acca5cdad774be8f926842593880c70"
	p := func(peer string, up int64) map[string]any {
		return map[string]any{"info_hash": storm, "peer_id": hex.EncodeToString([]byte(peer)), "ip": "::ffff:198.51.100.7",
			"port": 51413, "uploaded": up, "downloaded": 0, "left": 0, "ts": 1790000000}
	}
	// The second peer's port is unknown (Gazelle's): port 0.
	noPort := p("-qB4650-bbbbbbbbbbbb", 20)
	delete(noPort, "port")
	bob["peers"] = []map[string]any{p("-qB4650-aaaaaaaaaaaa", 10), noPort}
	s := run(t, pg.Pool, load(t, doc))
	if h := s.History; h.PeerMembers != 1 || h.Peers != 2 || h.PeersWritten != 2 {
		t.Fatalf("first import: %+v", h)
	}
	var stored string
	if err := pg.Pool.QueryRow(context.Background(), `SELECT string_agg(host(ip) || ' ' || port, ', ' ORDER BY peer_id) FROM site_peers`).Scan(&stored); err != nil ||
		stored != "198.51.100.7 51413, 198.51.100.7 0" {
		t.Fatalf("stored addresses %q, %v", stored, err)
	}
	if s = run(t, pg.Pool, load(t, doc)); s.History.PeersWritten != 0 || s.History.PeersRemoved != 0 {
		t.Fatalf("re-import: %+v", s.History)
	}
	bob["peers"] = []map[string]any{p("-qB4650-aaaaaaaaaaaa", 15)}
	if s = run(t, pg.Pool, load(t, doc)); s.History.PeersWritten != 1 || s.History.PeersRemoved != 1 {
		t.Fatalf("replaced: %+v", s.History)
	}
	// Once ratioguard has credited bob, his sessions here are newer.
	credit(t, pg.Pool, "bob", 1)
	bob["peers"] = []map[string]any{}
	if s = run(t, pg.Pool, load(t, doc)); s.History.MembersKept != 1 || s.History.PeersRemoved != 0 ||
		count(t, pg.Pool, `SELECT count(*) FROM site_peers`) != 1 {
		t.Fatalf("after traffic: %+v", s.History)
	}

	var inv *InvalidError
	for _, bad := range []map[string]any{{"peer_id": "00"}, {"ip": "10.0.0.300"}, {"port": 65536}, {"port": -1}, {"left": -1}, {"ts": nil}, {"info_hash": nil}} {
		peer := p("-qB4650-cccccccccccc", 1)
		for k, v := range bad {
			if v == nil {
				delete(peer, k)
			} else {
				peer[k] = v
			}
		}
		bob["peers"] = []map[string]any{peer}
		if err := parseErr(t, doc); !errors.As(err, &inv) || !strings.Contains(err.Error(), "peers[0].") {
			t.Errorf("peer %v: %v", bad, err)
		}
	}
	bob["peers"] = []map[string]any{p("-qB4650-aaaaaaaaaaaa", 1), p("-qB4650-aaaaaaaaaaaa", 2)}
	if err := parseErr(t, doc); err == nil || !strings.Contains(err.Error(), "also the peer_id of peers[0]") {
		t.Errorf("the same peer twice: %v", err)
	}
	bob["peers"] = []map[string]any{{"info_hash": strings.Repeat("cd", 20), "peer_id": strings.Repeat("00", 20), "ip": "10.0.0.1",
		"port": 1, "uploaded": 0, "downloaded": 0, "left": 0, "ts": 1790000000}}
	if _, err := Import(context.Background(), pg.Pool, load(t, doc), Options{}); !errors.As(err, &inv) ||
		!strings.Contains(err.Error(), "peers[0].info_hash: no torrent cdcd") {
		t.Errorf("a peer on an unknown torrent: %v", err)
	}
}

func TestImportListsHistoryChanges(t *testing.T) {
	pg := testenv.Postgres(t)
	doc := testdata(t)
	run(t, pg.Pool, load(t, doc))
	alice := doc["members"][0]
	alice["opening"] = map[string]any{"uploaded": 10, "downloaded": 5}
	alice["snatches"] = []map[string]any{{"info_hash": "f8c154180acca5cdad774be8f926842593880c70", "completed_ts": 1790000000, "seedtime_s": 1}}
	changes := func() []string {
		s, err := Import(context.Background(), pg.Pool, load(t, doc), Options{Changes: true})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, c := range s.Changes {
			out = append(out, c.Record+" "+c.Field+": "+c.Old+" -> "+c.New)
		}
		return out
	}
	got := strings.Join(changes(), "; ")
	want := "members[0] opening.uploaded: none -> 10; members[0] opening.downloaded: none -> 5; " +
		"members[0] opening.seedtime_s: none -> 0; members[0] opening.bonus: none -> 0; members[0] snatches: 0 snatches -> 1 snatches"
	if got != want {
		t.Fatalf("changes:\n got %s\nwant %s", got, want)
	}
	alice["opening"] = map[string]any{"uploaded": 12, "downloaded": 5}
	if got := strings.Join(changes(), "; "); got != "members[0] opening.uploaded: 10 -> 12" {
		t.Fatalf("revision: %s", got)
	}
	if got := changes(); len(got) != 0 {
		t.Fatalf("re-import: %v", got)
	}
}
