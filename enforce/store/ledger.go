package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Adjustment is a correction of a member's ledger totals that no announce
// caused: one ledger_adjustments row, applied to ledger_user_totals in the
// same transaction. (Ingest owns the ledger; until it exposes its own
// adjustment API this is enforce's, following the same contract.)
type Adjustment struct {
	UserID             int64
	CreditedUploaded   int64
	CreditedDownloaded int64
	BonusPoints        float64
	Reason             string
	ReportID           *int64
	Actor              string
}

// Totals are a member's credited figures after an adjustment.
type Totals struct {
	CreditedUploaded   float64 `json:"credited_uploaded"`
	CreditedDownloaded float64 `json:"credited_downloaded"`
	BonusPoints        float64 `json:"bonus_points"`
}

// adjustLedger writes the adjustment and returns the totals before and after.
func adjustLedger(ctx context.Context, tx pgx.Tx, now time.Time, adj Adjustment) (before, after Totals, err error) {
	if adj.Reason == "" {
		return before, after, fmt.Errorf("ledger adjustment for user %d: a reason is required", adj.UserID)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO ledger_adjustments
		(user_id, credited_uploaded, credited_downloaded, bonus_points, reason, report_id, actor, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, adj.UserID, adj.CreditedUploaded, adj.CreditedDownloaded,
		adj.BonusPoints, adj.Reason, adj.ReportID, adj.Actor, now); err != nil {
		return before, after, fmt.Errorf("insert ledger adjustment for user %d: %w", adj.UserID, err)
	}
	if err := tx.QueryRow(ctx, ledgerAdjustSQL, adj.UserID, adj.CreditedUploaded, adj.CreditedDownloaded,
		adj.BonusPoints, now).Scan(&after.CreditedUploaded, &after.CreditedDownloaded, &after.BonusPoints); err != nil {
		return before, after, fmt.Errorf("apply ledger adjustment to user %d totals: %w", adj.UserID, err)
	}
	before = Totals{
		CreditedUploaded:   after.CreditedUploaded - float64(adj.CreditedUploaded),
		CreditedDownloaded: after.CreditedDownloaded - float64(adj.CreditedDownloaded),
		BonusPoints:        after.BonusPoints - adj.BonusPoints,
	}
	return before, after, nil
}
