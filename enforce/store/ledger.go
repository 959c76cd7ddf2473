package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// bonusAdjustment credits seeding-bonus points: one ledger_adjustments row,
// applied to ledger_user_totals in the caller's transaction, the same
// contract as ingest/ledger.Adjust. It is enforce's own because Adjust opens
// its own transaction, and a bonus credit must commit atomically with the
// seedtime cursors it moves (a credit without a report id is not
// deduplicated by the ledger).
type bonusAdjustment struct {
	UserID      int64
	BonusPoints float64
	Reason      string
}

// Totals are a member's credited figures after an adjustment.
type Totals struct {
	CreditedUploaded   float64 `json:"credited_uploaded"`
	CreditedDownloaded float64 `json:"credited_downloaded"`
	BonusPoints        float64 `json:"bonus_points"`
}

// creditBonus writes the adjustment and returns the points before and after.
func creditBonus(ctx context.Context, tx pgx.Tx, now time.Time, adj bonusAdjustment) (before, after float64, err error) {
	if _, err := tx.Exec(ctx, `INSERT INTO ledger_adjustments (user_id, bonus_points, reason, actor, created_at)
		VALUES ($1, $2, $3, $4, $5)`, adj.UserID, adj.BonusPoints, adj.Reason, ActorBonus, now); err != nil {
		return 0, 0, fmt.Errorf("insert bonus adjustment for user %d: %w", adj.UserID, err)
	}
	if err := tx.QueryRow(ctx, bonusCreditSQL, adj.UserID, adj.BonusPoints, now).Scan(&after); err != nil {
		return 0, 0, fmt.Errorf("credit bonus to user %d totals: %w", adj.UserID, err)
	}
	return after - adj.BonusPoints, after, nil
}
