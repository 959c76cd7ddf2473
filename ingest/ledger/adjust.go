package ledger

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

var (
	//go:embed sql/insert_adjustment.sql
	insertAdjustmentSQL string
	//go:embed sql/existing_adjustment.sql
	existingAdjustmentSQL string
	//go:embed sql/adjustment_by_key.sql
	adjustmentByKeySQL string
	//go:embed sql/adjust_totals.sql
	adjustTotalsSQL string
	//go:embed sql/adjust_user_torrent.sql
	adjustUserTorrentSQL string
)

// Adjustment is an explicit correction of a member's credited totals: a
// reversal of fake credit found by a cheat report, or a manual fix. Amounts
// are signed (a reversal is negative).
type Adjustment struct {
	UserID             int64
	TorrentID          int64 // 0: not tied to a torrent
	CreditedUploaded   int64
	CreditedDownloaded int64
	BonusPoints        float64
	// Seedtime is seconds added to the member's total seedtime (an opening
	// balance's lifetime seedtime on the site); never tied to a torrent.
	Seedtime int64
	Reason   string // required
	ReportID int64  // 0: none; with one, the adjustment is applied once per member and torrent
	Actor    string // required: staff name or job
	// Key, when set, makes the adjustment idempotent: a repeated call with
	// the same key and the same adjustment changes nothing and returns the
	// first one's id with applied=false; the same key with another
	// adjustment is ErrKeyReused.
	Key string
}

// Errors of Adjust.
var (
	ErrInvalidAdjustment = errors.New("invalid ledger adjustment")
	ErrNegative          = errors.New("ledger adjustment would make a total negative")
	ErrNoHistory         = errors.New("member has no ledger history on that torrent")
	ErrKeyReused         = errors.New("idempotency key already used for a different adjustment")
)

// Adjust records a and applies it to the member's totals (and the member ×
// torrent history when a.TorrentID is set) in one transaction. With a
// ReportID, a repeated call (an enforcement job retrying) changes nothing and
// returns the first adjustment's id with applied=false.
func Adjust(ctx context.Context, pool *pgxpool.Pool, a Adjustment) (id int64, applied bool, err error) {
	if err := a.validate(); err != nil {
		return 0, false, err
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		return 0, false, fmt.Errorf("begin adjustment: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()

	var key *string
	if a.Key != "" {
		key = &a.Key
	}
	err = tx.QueryRow(ctx, insertAdjustmentSQL, a.UserID, nullable(a.TorrentID), a.CreditedUploaded,
		a.CreditedDownloaded, a.BonusPoints, a.Reason, nullable(a.ReportID), a.Actor, key, a.Seedtime).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) && a.Key != "" {
		return a.existingByKey(ctx, tx)
	}
	if errors.Is(err, pgx.ErrNoRows) {
		err = tx.QueryRow(ctx, existingAdjustmentSQL, a.ReportID, a.UserID, nullable(a.TorrentID)).Scan(&id)
		if err != nil {
			return 0, false, fmt.Errorf("read existing adjustment for report %d: %w", a.ReportID, err)
		}
		return id, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("record adjustment for user %d: %w", a.UserID, err)
	}
	var negative bool
	if err := tx.QueryRow(ctx, adjustTotalsSQL, a.UserID, a.CreditedUploaded, a.CreditedDownloaded, a.BonusPoints, a.Seedtime).Scan(&negative); err != nil {
		return 0, false, fmt.Errorf("adjust totals of user %d: %w", a.UserID, err)
	}
	if negative {
		return 0, false, fmt.Errorf("%w: user %d", ErrNegative, a.UserID)
	}
	if a.TorrentID != 0 {
		err := tx.QueryRow(ctx, adjustUserTorrentSQL, a.UserID, a.TorrentID, a.CreditedUploaded, a.CreditedDownloaded).Scan(&negative)
		if errors.Is(err, pgx.ErrNoRows) {
			return 0, false, fmt.Errorf("%w: user %d torrent %d", ErrNoHistory, a.UserID, a.TorrentID)
		}
		if err != nil {
			return 0, false, fmt.Errorf("adjust history of user %d torrent %d: %w", a.UserID, a.TorrentID, err)
		}
		if negative {
			return 0, false, fmt.Errorf("%w: user %d torrent %d", ErrNegative, a.UserID, a.TorrentID)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, false, fmt.Errorf("commit adjustment for user %d: %w", a.UserID, err)
	}
	return id, true, nil
}

// existingByKey answers a repeated key: the first adjustment's id when it
// is the same adjustment, else ErrKeyReused.
func (a Adjustment) existingByKey(ctx context.Context, tx pgx.Tx) (int64, bool, error) {
	var (
		id    int64
		prev  Adjustment
		found = true
	)
	err := tx.QueryRow(ctx, adjustmentByKeySQL, a.Key).Scan(&id, &prev.UserID, &prev.TorrentID,
		&prev.CreditedUploaded, &prev.CreditedDownloaded, &prev.BonusPoints, &prev.Reason, &prev.Seedtime)
	if errors.Is(err, pgx.ErrNoRows) {
		found = false // another unique index refused it: a report already applied
	} else if err != nil {
		return 0, false, fmt.Errorf("read adjustment with key %q: %w", a.Key, err)
	}
	if !found {
		return 0, false, fmt.Errorf("%w: key %q", ErrKeyReused, a.Key)
	}
	if prev.UserID != a.UserID || prev.TorrentID != a.TorrentID || prev.CreditedUploaded != a.CreditedUploaded ||
		prev.CreditedDownloaded != a.CreditedDownloaded || prev.BonusPoints != a.BonusPoints || prev.Reason != a.Reason || prev.Seedtime != a.Seedtime {
		return id, false, fmt.Errorf("%w: key %q is adjustment %d", ErrKeyReused, a.Key, id)
	}
	return id, false, nil
}

func (a Adjustment) validate() error {
	switch {
	case a.UserID <= 0:
		return fmt.Errorf("%w: user id %d", ErrInvalidAdjustment, a.UserID)
	case strings.TrimSpace(a.Reason) == "":
		return fmt.Errorf("%w: a reason is required", ErrInvalidAdjustment)
	case strings.TrimSpace(a.Actor) == "":
		return fmt.Errorf("%w: an actor is required", ErrInvalidAdjustment)
	case a.CreditedUploaded == 0 && a.CreditedDownloaded == 0 && a.BonusPoints == 0 && a.Seedtime == 0:
		return fmt.Errorf("%w: nothing to adjust", ErrInvalidAdjustment)
	case a.Seedtime != 0 && a.TorrentID != 0:
		return fmt.Errorf("%w: seedtime is adjusted on the member's total, not on a torrent", ErrInvalidAdjustment)
	case a.TorrentID < 0 || a.ReportID < 0:
		return fmt.Errorf("%w: negative torrent or report id", ErrInvalidAdjustment)
	}
	return nil
}

func nullable(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}
