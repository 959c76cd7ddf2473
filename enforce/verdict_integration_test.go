package enforce_test

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/ratioguard/ratioguard/enforce/store"
)

func (f *fixture) report(kind, subject string, status string, verdict []string, reverseUp *int64) int64 {
	f.t.Helper()
	var id int64
	f.scalar(&id, `INSERT INTO cheat_reports (detector, subject_kind, subject_id, window_start, window_end, score, severity,
		status, verdict, reverse_uploaded) VALUES ('faked_upload', $1, $2, $3, $3, 0.99, 'high', $4, $5, $6) RETURNING id`,
		kind, subject, t0.Add(-time.Hour), status, verdict, reverseUp)
	return id
}

func i64(v int64) *int64 { return &v }

func TestConfirmedVerdictIsCarriedOutOnce(t *testing.T) {
	f := newFixture(t)
	f.cfg.Bonus.PointsPerHour = 0
	u := f.user("jack", "member")
	f.totals(u, 50*gib, 20*gib)
	before := f.member(u)
	notes := f.listen()
	open := f.report("user", fmt.Sprint(u), "open", []string{"disable_account"}, nil)
	id := f.report("user", fmt.Sprint(u), "confirmed", []string{"reverse_credit", "disable_leech", "reset_passkey"}, i64(40*gib))

	res := f.runTwice()
	// Three verdict rows, then the ratio rule sees the reversed credit
	// (10 GiB / 20 GiB = 0.5 is fine for 20 GiB: no watch).
	if len(res.Planned) != 3 {
		t.Fatalf("planned %+v", res.Planned)
	}
	f.expectNotify(notes, u)
	m := f.member(u)
	if m.CanLeech || !m.Held || m.Passkey == before.Passkey || !m.Enabled {
		t.Fatalf("after verdict: %+v (was %+v)", m, before)
	}
	var up float64
	f.scalar(&up, `SELECT credited_uploaded::float8 FROM ledger_user_totals WHERE user_id = $1`, u)
	if math.Abs(up-10*gib) > 0 {
		t.Fatalf("credited upload %g, want 10 GiB", up)
	}
	var adjReport int64
	f.scalar(&adjReport, `SELECT report_id FROM ledger_adjustments WHERE user_id = $1 AND credited_uploaded < 0`, u)
	if adjReport != id {
		t.Fatalf("adjustment carries report %d, want %d", adjReport, id)
	}
	var enforced bool
	f.scalar(&enforced, `SELECT enforced_at IS NOT NULL FROM cheat_reports WHERE id = $1`, id)
	if !enforced {
		t.Fatal("report not marked enforced")
	}
	f.scalar(&enforced, `SELECT enforced_at IS NOT NULL FROM cheat_reports WHERE id = $1`, open)
	if enforced {
		t.Fatal("an open report was enforced")
	}
	var auditText string
	f.scalar(&auditText, `SELECT string_agg(before::text || after::text, ' ') FROM audit_log WHERE action = 'verdict.reset_passkey'`)
	if strings.Contains(auditText, before.Passkey) || strings.Contains(auditText, m.Passkey) {
		t.Fatal("a whole passkey went to the audit log")
	}

	// Staff lift the leech block: the next pass gives leeching back.
	f.exec(`DELETE FROM enforce_leech_blocks WHERE report_id = $1`, id)
	res = f.runTwice()
	if len(res.Planned) != 1 || res.Planned[0].Rule != "leech" {
		t.Fatalf("after lifting the block: %+v", res.Planned)
	}
	if m := f.member(u); !m.CanLeech || m.Held {
		t.Fatalf("after lifting the block: %+v", m)
	}
}

func TestVerdictByPasskeyDisablesAccount(t *testing.T) {
	f := newFixture(t)
	u := f.user("kim", "member")
	key := f.member(u).Passkey
	f.report("passkey", key, "confirmed", []string{"disable_account", "reset_passkey"}, nil)
	f.runTwice()
	m := f.member(u)
	if m.Enabled || m.Passkey == key {
		t.Fatalf("after verdict: %+v", m)
	}
	var reason string
	f.scalar(&reason, `SELECT disabled_reason FROM users WHERE id = $1`, u)
	if !strings.Contains(reason, "report #") {
		t.Fatalf("disabled_reason %q", reason)
	}
}

// A verdict that cannot be carried out fails loudly, is recorded on the
// report for staff, changes nothing, and is retried on the next pass.
func TestBadVerdictIsRecordedNotLost(t *testing.T) {
	f := newFixture(t)
	u := f.user("lee", "member")
	id := f.report("user", fmt.Sprint(u), "confirmed", []string{"reverse_credit"}, nil)
	ghost := f.report("user", "999999", "confirmed", []string{"disable_leech"}, nil)
	res, err := f.runner(false).Once(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Failed != 2 || res.Applied != 0 {
		t.Fatalf("failed %d applied %d: %v", res.Failed, res.Applied, res.Errors)
	}
	var msg string
	f.scalar(&msg, `SELECT enforce_error FROM cheat_reports WHERE id = $1`, id)
	if !strings.Contains(msg, "reverse_uploaded") {
		t.Fatalf("enforce_error %q", msg)
	}
	f.scalar(&msg, `SELECT enforce_error FROM cheat_reports WHERE id = $1`, ghost)
	if !strings.Contains(msg, "no member") {
		t.Fatalf("enforce_error %q", msg)
	}
	if f.count("audit_log") != 0 || f.count("ledger_adjustments") != 0 {
		t.Fatal("a failed verdict changed something")
	}
	// Staff set an amount larger than the member's credit: the ledger refuses
	// to go negative, and that is recorded too.
	f.exec(`UPDATE cheat_reports SET reverse_uploaded = 1000 WHERE id = $1`, id)
	res, err = f.runner(false).Once(f.ctx)
	if err != nil || res.Applied != 0 || res.Failed != 2 {
		t.Fatalf("negative reversal: %v %+v", err, res)
	}
	f.scalar(&msg, `SELECT enforce_error FROM cheat_reports WHERE id = $1`, id)
	if !strings.Contains(msg, "negative") {
		t.Fatalf("enforce_error %q", msg)
	}
	// Staff fix the amount: carried out on the next pass.
	f.totals(u, 5000, 0)
	res, err = f.runner(false).Once(f.ctx)
	if err != nil || res.Applied != 1 || res.Failed != 1 {
		t.Fatalf("after fix: %v %+v", err, res)
	}
	var up float64
	f.scalar(&up, `SELECT credited_uploaded::float8 FROM ledger_user_totals WHERE user_id = $1`, u)
	if up != 4000 {
		t.Fatalf("credited upload %g after reversing 1000 of 5000", up)
	}
	f.scalar(&msg, `SELECT COALESCE(enforce_error, '') FROM cheat_reports WHERE id = $1`, id)
	if msg != "" {
		t.Fatalf("error kept after success: %q", msg)
	}
}

// A review amended after a pass read it (and before the pass took the
// report's lock) is not carried out as it was: the pass leaves it, and the
// next one carries out the amended verdict.
func TestAmendedVerdictIsCarriedOutAsAmended(t *testing.T) {
	f := newFixture(t)
	f.cfg.Bonus.PointsPerHour = 0
	u := f.user("kim", "member")
	f.totals(u, 50*gib, 20*gib)
	id := f.report("user", fmt.Sprint(u), "confirmed", []string{"reverse_credit"}, i64(40*gib))
	s := store.New(f.pg.Pool, f.cfg)
	snap, err := s.Load(f.ctx, t0)
	if err != nil || len(snap.Reports) != 1 {
		t.Fatalf("snapshot: %+v, %v", snap, err)
	}
	// Staff amend the reversal to 5 GiB while the pass holds the old one.
	f.exec(`UPDATE cheat_reports SET reverse_uploaded = $2 WHERE id = $1`, id, int64(5*gib))
	applied, err := s.Apply(f.ctx, store.VerdictChange{Report: snap.Reports[0]}, t0)
	if err != nil || applied {
		t.Fatalf("stale verdict applied: %v, %v", applied, err)
	}
	f.run()
	var up float64
	f.scalar(&up, `SELECT credited_uploaded::float8 FROM ledger_user_totals WHERE user_id = $1`, u)
	if up != 45*gib {
		t.Fatalf("credited upload %g GiB, want 45 (the amended 5 GiB reversed, not the 40 first confirmed)", up/gib)
	}
}
