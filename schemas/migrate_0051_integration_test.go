package schemas_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ratioguard/ratioguard/internal/testenv"
	"github.com/ratioguard/ratioguard/schemas"
)

// TestPostgres0051FixesAmountsOverBigint: reversal amounts over 2^63-1
// stored before the check are removed with an audit row keeping them; a
// confirmed report left without a verdict goes back to the queue unless a
// newer open report holds its subject; a fitting amount is untouched; and
// afterwards an amount over bigint is refused.
func TestPostgres0051FixesAmountsOverBigint(t *testing.T) {
	pg := testenv.EmptyPostgres(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := schemas.MigratePostgresTo(ctx, pg.Pool, 50); err != nil {
		t.Fatal(err)
	}
	const huge = "99999999999999999999" // 20 digits: accepted before, "bigint out of range" in enforce
	ins := func(subject, status, verdict string, up, down any) int64 {
		t.Helper()
		var id int64
		if err := pg.Pool.QueryRow(ctx, `INSERT INTO cheat_reports (detector, subject_kind, subject_id, window_start, window_end, score, severity,
			status, verdict, reverse_uploaded, reverse_downloaded, note, enforce_error)
			VALUES ('faked_upload', 'user', $1, now(), now(), 1, 'high', $2, $3::text[], $4::numeric, $5::numeric, 'typed by staff', 'bigint out of range') RETURNING id`,
			subject, status, verdict, up, down).Scan(&id); err != nil {
			t.Fatal(err)
		}
		return id
	}
	onlyReverse := ins("1", "confirmed", "{reverse_credit}", huge, nil)             // -> open, no verdict
	withLeech := ins("2", "confirmed", "{reverse_credit,disable_leech}", huge, nil) // -> confirmed, disable_leech
	oneFits := ins("3", "confirmed", "{reverse_credit}", huge, "1073741824")        // -> keeps reverse_credit with the download
	blocked := ins("4", "confirmed", "{reverse_credit}", huge, nil)                 // a newer open report on member 4
	ins("4", "open", "{}", nil, nil)
	fine := ins("5", "confirmed", "{reverse_credit}", "42949672960", nil)

	applied, err := schemas.MigratePostgresTo(ctx, pg.Pool, 51)
	if err != nil {
		t.Fatal(err)
	}
	if len(applied) != 1 || applied[0].Version != 51 {
		t.Fatalf("applied %+v", applied)
	}
	type row struct {
		status, verdict, up, down, note string
		enforceErr                      *string
	}
	get := func(id int64) row {
		t.Helper()
		var r row
		if err := pg.Pool.QueryRow(ctx, `SELECT status, array_to_string(verdict, ','), COALESCE(reverse_uploaded::text, ''), COALESCE(reverse_downloaded::text, ''), note, enforce_error
			FROM cheat_reports WHERE id = $1`, id).Scan(&r.status, &r.verdict, &r.up, &r.down, &r.note, &r.enforceErr); err != nil {
			t.Fatal(err)
		}
		return r
	}
	for id, want := range map[int64]row{
		onlyReverse: {status: "open", verdict: ""},
		withLeech:   {status: "confirmed", verdict: "disable_leech"},
		oneFits:     {status: "confirmed", verdict: "reverse_credit", down: "1073741824"},
		blocked:     {status: "confirmed", verdict: ""},
	} {
		got := get(id)
		if got.status != want.status || got.verdict != want.verdict || got.up != "" || got.down != want.down || got.enforceErr != nil ||
			!strings.HasPrefix(got.note, "typed by staff\n[migration 00051: reverse amount uploaded "+huge) {
			t.Errorf("report %d: %+v, want %+v", id, got, want)
		}
	}
	if got := get(fine); got.up != "42949672960" || got.status != "confirmed" || got.note != "typed by staff" {
		t.Errorf("a fitting amount changed: %+v", got)
	}
	var audits int
	var before string
	if err := pg.Pool.QueryRow(ctx, `SELECT count(*), max(before::text) FILTER (WHERE subject_id = $1) FROM audit_log WHERE action = 'report.amount_fix'`,
		strconv.FormatInt(onlyReverse, 10)).Scan(&audits, &before); err != nil || audits != 4 || !strings.Contains(before, huge) {
		t.Errorf("audit rows: %d %s %v", audits, before, err)
	}
	if _, err := pg.Pool.Exec(ctx, `UPDATE cheat_reports SET reverse_uploaded = $1::numeric WHERE id = $2`, huge, fine); err == nil {
		t.Error("an amount over bigint is accepted after 00051")
	}
	if _, err := schemas.MigratePostgres(ctx, pg.Pool); err != nil { // and every later one
		t.Fatal(err)
	}
}
