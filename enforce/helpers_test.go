package enforce_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ratioguard/ratioguard/enforce"
	"github.com/ratioguard/ratioguard/enforce/rules"
	"github.com/ratioguard/ratioguard/internal/testenv"
)

const gib = rules.GiB

var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// fixture is a fresh database, a fake clock and helpers to set the ledger up
// as ingest would have left it.
type fixture struct {
	t     *testing.T
	ctx   context.Context
	pg    testenv.PG
	clock *enforce.FakeClock
	cfg   rules.Config
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	pg := testenv.Postgres(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	return &fixture{t: t, ctx: ctx, pg: pg, clock: enforce.NewFakeClock(t0), cfg: rules.Default()}
}

func (f *fixture) exec(sql string, args ...any) {
	f.t.Helper()
	if _, err := f.pg.Pool.Exec(f.ctx, sql, args...); err != nil {
		f.t.Fatalf("%s: %v", sql, err)
	}
}

func (f *fixture) scalar(dst any, sql string, args ...any) {
	f.t.Helper()
	if err := f.pg.Pool.QueryRow(f.ctx, sql, args...).Scan(dst); err != nil {
		f.t.Fatalf("%s: %v", sql, err)
	}
}

func passkey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (f *fixture) user(name, class string) int64 {
	f.t.Helper()
	var id int64
	f.scalar(&id, `INSERT INTO users (name, passkey, class) VALUES ($1, $2, $3) RETURNING id`, name, passkey(), class)
	return id
}

func (f *fixture) torrent(name string, size int64) int64 {
	f.t.Helper()
	h := make([]byte, 20)
	_, _ = rand.Read(h)
	var id int64
	f.scalar(&id, `INSERT INTO torrents (info_hash, name, size) VALUES ($1, $2, $3) RETURNING id`, h, name, size)
	return id
}

// totals sets a member's credited figures (as the ledger consumer would).
func (f *fixture) totals(user int64, up, down float64) {
	f.exec(`INSERT INTO ledger_user_totals (user_id, raw_uploaded, raw_downloaded, credited_uploaded, credited_downloaded)
		VALUES ($1, $2, $3, $2, $3) ON CONFLICT (user_id) DO UPDATE SET credited_uploaded = $2, credited_downloaded = $3,
		raw_uploaded = $2, raw_downloaded = $3`, user, up, down)
}

// snatch is one ledger_user_torrents row.
type snatch struct {
	user, torrent int64
	downloaded    float64
	seedtime      time.Duration
	snatchedAt    *time.Time // nil: never completed
	first, last   time.Time
	left          int64
}

func (f *fixture) snatch(s snatch) {
	f.exec(`INSERT INTO ledger_user_torrents (user_id, torrent_id, raw_downloaded, credited_downloaded, seedtime_seconds,
		snatched_at, first_announce_at, last_announce_at, last_left) VALUES ($1, $2, $3, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (user_id, torrent_id) DO UPDATE SET raw_downloaded = $3, credited_downloaded = $3, seedtime_seconds = $4,
		snatched_at = $5, first_announce_at = $6, last_announce_at = $7, last_left = $8`,
		s.user, s.torrent, s.downloaded, int64(s.seedtime.Seconds()), s.snatchedAt, s.first, s.last, s.left)
}

func at(t time.Time) *time.Time { return &t }

func (f *fixture) runner(dry bool) *enforce.Runner {
	f.t.Helper()
	r, err := enforce.New(f.pg.Pool, enforce.Options{Config: f.cfg, Clock: f.clock, DryRun: dry,
		Log: slog.New(slog.NewTextHandler(testWriter{f.t}, nil))})
	if err != nil {
		f.t.Fatal(err)
	}
	return r
}

// run runs one real pass and fails the test on any failed change.
func (f *fixture) run() *enforce.Result {
	f.t.Helper()
	res, err := f.runner(false).Once(f.ctx)
	if err != nil {
		f.t.Fatalf("enforce pass: %v", err)
	}
	if res.Failed > 0 {
		f.t.Fatalf("enforce pass: %d failed: %v", res.Failed, res.Errors)
	}
	return res
}

// runTwice runs a pass, then checks a second pass at the same time plans and
// changes nothing, and that the first wrote one audit row per planned row.
func (f *fixture) runTwice() *enforce.Result {
	f.t.Helper()
	before := f.count(`audit_log`)
	res := f.run()
	if got := f.count(`audit_log`) - before; got != len(res.Planned) {
		f.t.Fatalf("pass wrote %d audit rows for %d planned rows: %v", got, len(res.Planned), res.Planned)
	}
	if res.Applied != res.Changes {
		f.t.Fatalf("applied %d of %d changes", res.Applied, res.Changes)
	}
	fp := f.fingerprint()
	again := f.run()
	if again.Changes != 0 || again.Applied != 0 {
		f.t.Fatalf("second pass not idempotent: %d changes %+v", again.Changes, again.Planned)
	}
	if f.fingerprint() != fp {
		f.t.Fatal("second pass changed the database")
	}
	return res
}

func (f *fixture) count(table string) int {
	f.t.Helper()
	var n int
	f.scalar(&n, `SELECT count(*) FROM `+table)
	return n
}

// fingerprint is every table enforcement reads or writes, as JSON text
// (enforce_runs and the seed samples are bookkeeping of the run itself and
// excluded).
func (f *fixture) fingerprint() string {
	f.t.Helper()
	var out string
	for _, table := range []string{"users", "ledger_user_totals", "ledger_adjustments", "audit_log", "cheat_reports",
		"enforce_ratio_watch", "enforce_hnr_warnings", "enforce_leech_blocks", "enforce_leech_holds", "enforce_bonus_cursor"} {
		var s *string
		f.scalar(&s, fmt.Sprintf(`SELECT json_agg(t ORDER BY t::text)::text FROM %s t`, table))
		if s != nil {
			out += table + ":" + *s + "\n"
		}
	}
	return out
}

type member struct {
	CanLeech bool
	Enabled  bool
	Passkey  string
	Watch    string
	Held     bool
}

func (f *fixture) member(id int64) member {
	f.t.Helper()
	var m member
	if err := f.pg.Pool.QueryRow(f.ctx, `SELECT u.can_leech, u.enabled, u.passkey, COALESCE(w.state, ''), h.user_id IS NOT NULL
		FROM users u LEFT JOIN enforce_ratio_watch w ON w.user_id = u.id LEFT JOIN enforce_leech_holds h ON h.user_id = u.id
		WHERE u.id = $1`, id).Scan(&m.CanLeech, &m.Enabled, &m.Passkey, &m.Watch, &m.Held); err != nil {
		f.t.Fatal(err)
	}
	return m
}

// listen subscribes to the tracker's policy channel.
func (f *fixture) listen() *pgx.Conn {
	f.t.Helper()
	conn, err := pgx.Connect(f.ctx, f.pg.URL)
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { conn.Close(context.Background()) })
	if _, err := conn.Exec(f.ctx, `LISTEN ratioguard_policy`); err != nil {
		f.t.Fatal(err)
	}
	return conn
}

// expectNotify waits up to 2 s for a users notification about id.
func (f *fixture) expectNotify(conn *pgx.Conn, id int64) {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(f.ctx, 2*time.Second)
	defer cancel()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			f.t.Fatalf("no NOTIFY for user %d within 2 s: %v", id, err)
		}
		var p struct {
			Table string `json:"table"`
			ID    int64  `json:"id"`
		}
		if json.Unmarshal([]byte(n.Payload), &p) == nil && p.Table == "users" && p.ID == id {
			return
		}
	}
}

func (f *fixture) auditActions(user int64) []string {
	f.t.Helper()
	rows, err := f.pg.Pool.Query(f.ctx, `SELECT action FROM audit_log WHERE subject_kind = 'user' AND subject_id = $1 ORDER BY id`,
		fmt.Sprint(user))
	if err != nil {
		f.t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		f.t.Fatal(err)
	}
	return out
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(string(p))
	return len(p), nil
}
