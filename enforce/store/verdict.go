package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/ratioguard/ratioguard/ingest/ledger"
)

// Verdict actions staff put in cheat_reports.verdict (combinable).
const (
	VerdictReverseCredit  = "reverse_credit"
	VerdictDisableAccount = "disable_account"
	VerdictDisableLeech   = "disable_leech"
	VerdictResetPasskey   = "reset_passkey"
)

// verdictOrder is the order actions are carried out in.
var verdictOrder = []string{VerdictReverseCredit, VerdictDisableLeech, VerdictDisableAccount, VerdictResetPasskey}

// Check says why a report's verdict cannot be carried out, or nil.
func (r Report) Check() error {
	if r.UserID == nil {
		return fmt.Errorf("report %d: subject %s %q is no member (and evidence has no user_id)", r.ID, r.SubjectKind, r.SubjectID)
	}
	for _, v := range r.Verdict {
		if !slices.Contains(verdictOrder, v) {
			return fmt.Errorf("report %d: unknown verdict action %q", r.ID, v)
		}
	}
	if slices.Contains(r.Verdict, VerdictReverseCredit) && r.ReverseUploaded == nil && r.ReverseDownloaded == nil {
		return fmt.Errorf("report %d: verdict reverse_credit needs reverse_uploaded and/or reverse_downloaded", r.ID)
	}
	return nil
}

// VerdictChange carries out a confirmed report's verdict once: every action
// in one transaction, one audit row per action, the report marked enforced.
type VerdictChange struct {
	Report Report
	// LeechNote is the planner's forecast for disable_leech.
	LeechNote string
}

// Rows implements Change: one row per action.
func (c VerdictChange) Rows() []Row {
	r := c.Report
	var uid int64
	if r.UserID != nil {
		uid = *r.UserID
	}
	cur := fmt.Sprintf("report #%d (%s) confirmed", r.ID, r.Detector)
	var rows []Row
	for _, v := range verdictOrder {
		if !slices.Contains(r.Verdict, v) {
			continue
		}
		var planned string
		switch v {
		case VerdictReverseCredit:
			planned = fmt.Sprintf("ledger adjustment: upload -%s, download +%s", FormatBytes(float64(deref(r.ReverseUploaded))),
				FormatBytes(float64(deref(r.ReverseDownloaded))))
		case VerdictDisableLeech:
			planned = "leech block"
			if c.LeechNote != "" {
				planned += "; " + c.LeechNote
			}
		case VerdictDisableAccount:
			planned = "account disabled"
		case VerdictResetPasskey:
			planned = "passkey reset"
		}
		rows = append(rows, Row{UserID: uid, Member: r.Member, Rule: "verdict/" + v, Current: cur, Planned: planned})
	}
	return rows
}

// sameVerdict says whether two verdicts hold the same actions.
func sameVerdict(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

func (c VerdictChange) apply(ctx context.Context, tx pgx.Tx, a *applier) ([]Audit, error) {
	r := c.Report
	if err := r.Check(); err != nil {
		return nil, err
	}
	// Under the report's lock, the verdict must still be the one this pass
	// planned: a review amended (or reopened) since is carried out by the
	// next pass as it now stands, never as it was.
	var verdict []string
	var ru, rd *int64
	err := tx.QueryRow(ctx, `SELECT verdict, reverse_uploaded::bigint, reverse_downloaded::bigint FROM cheat_reports
		WHERE id = $1 AND status = 'confirmed' AND enforced_at IS NULL FOR UPDATE`, r.ID).Scan(&verdict, &ru, &rd)
	if err == pgx.ErrNoRows {
		return nil, nil // already carried out (or no longer confirmed)
	}
	if err != nil {
		return nil, fmt.Errorf("lock report %d: %w", r.ID, err)
	}
	if !sameVerdict(verdict, r.Verdict) || deref(ru) != deref(r.ReverseUploaded) || deref(rd) != deref(r.ReverseDownloaded) {
		return nil, nil
	}
	uid := *r.UserID
	why := fmt.Sprintf("cheating confirmed: report #%d (%s)", r.ID, r.Detector)
	var audits []Audit
	for _, v := range verdictOrder {
		if !slices.Contains(r.Verdict, v) {
			continue
		}
		var before, after any
		switch v {
		case VerdictReverseCredit:
			b, aft, err := reverseCredit(ctx, tx, a, r, uid, why)
			if err != nil {
				return nil, err
			}
			before, after = b, aft
		case VerdictDisableLeech:
			if _, err := tx.Exec(ctx, `INSERT INTO enforce_leech_blocks (user_id, report_id, reason, created_at)
				VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`, uid, r.ID, why, a.now); err != nil {
				return nil, fmt.Errorf("leech block for report %d: %w", r.ID, err)
			}
			b, aft, err := a.syncLeech(ctx, tx, uid)
			if err != nil {
				return nil, err
			}
			before, after = b, aft
		case VerdictDisableAccount:
			var enabled bool
			var reason *string
			if err := tx.QueryRow(ctx, `SELECT enabled, disabled_reason FROM users WHERE id = $1 FOR UPDATE`, uid).Scan(&enabled, &reason); err != nil {
				return nil, fmt.Errorf("read user %d: %w", uid, err)
			}
			if _, err := tx.Exec(ctx, `UPDATE users SET enabled = FALSE, disabled_reason = $2, updated_at = $3 WHERE id = $1`,
				uid, why, a.now); err != nil {
				return nil, fmt.Errorf("disable user %d: %w", uid, err)
			}
			before = map[string]any{"enabled": enabled, "disabled_reason": reason}
			after = map[string]any{"enabled": false, "disabled_reason": why}
		case VerdictResetPasskey:
			var old string
			if err := tx.QueryRow(ctx, `SELECT passkey FROM users WHERE id = $1 FOR UPDATE`, uid).Scan(&old); err != nil {
				return nil, fmt.Errorf("read user %d: %w", uid, err)
			}
			key, err := NewPasskey()
			if err != nil {
				return nil, err
			}
			if _, err := tx.Exec(ctx, `UPDATE users SET passkey = $2, updated_at = $3 WHERE id = $1`, uid, key, a.now); err != nil {
				return nil, fmt.Errorf("reset passkey of user %d: %w", uid, err)
			}
			// Only a prefix goes to the audit log: a passkey is a credential.
			before = map[string]any{"passkey_prefix": old[:6]}
			after = map[string]any{"passkey_prefix": key[:6]}
		}
		audits = append(audits, userAudit(ActorVerdicts, "verdict."+v, uid, why, before, after))
	}
	if _, err := tx.Exec(ctx, `UPDATE cheat_reports SET enforced_at = $2, enforce_error = NULL WHERE id = $1`, r.ID, a.now); err != nil {
		return nil, fmt.Errorf("mark report %d enforced: %w", r.ID, err)
	}
	return audits, nil
}

// NewPasskey returns 32 random hex digits.
func NewPasskey() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random passkey: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// reverseCredit reverses the fake credit through ingest's ledger API, which
// applies an adjustment carrying a report id once per member (a retry after
// a failure later in this transaction changes nothing), then reads the
// totals for the audit row.
func reverseCredit(ctx context.Context, tx pgx.Tx, a *applier, r Report, uid int64, why string) (before, after Totals, err error) {
	adj := ledger.Adjustment{UserID: uid, CreditedUploaded: -deref(r.ReverseUploaded), CreditedDownloaded: deref(r.ReverseDownloaded),
		Reason: "fake credit reversed: " + why, ReportID: r.ID, Actor: ActorVerdicts}
	if adj.CreditedUploaded == 0 && adj.CreditedDownloaded == 0 {
		return before, after, nil // a zero reversal: nothing to adjust
	}
	if _, _, err := ledger.Adjust(ctx, a.s.pool, adj); err != nil {
		return before, after, fmt.Errorf("reverse credit of report %d: %w", r.ID, err)
	}
	if err := tx.QueryRow(ctx, `SELECT credited_uploaded::float8, credited_downloaded::float8, bonus_points::float8
		FROM ledger_user_totals WHERE user_id = $1`, uid).Scan(&after.CreditedUploaded, &after.CreditedDownloaded, &after.BonusPoints); err != nil {
		return before, after, fmt.Errorf("read totals of user %d: %w", uid, err)
	}
	before = Totals{CreditedUploaded: after.CreditedUploaded - float64(adj.CreditedUploaded),
		CreditedDownloaded: after.CreditedDownloaded - float64(adj.CreditedDownloaded), BonusPoints: after.BonusPoints}
	return before, after, nil
}
