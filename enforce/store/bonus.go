package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// BonusItem is whole hours of new seedtime on one torrent and their points.
type BonusItem struct {
	TorrentID int64   `json:"torrent_id"`
	From      int64   `json:"from_seedtime"` // cursor before (seconds)
	To        int64   `json:"to_seedtime"`   // cursor after: From + 3600 × Hours
	Hours     int64   `json:"hours"`
	Size      int64   `json:"size"`
	Seeders   int     `json:"seeders"`
	Points    float64 `json:"points"`
}

// BonusAccrual credits one member's seeding-bonus points: one ledger
// adjustment for the sum, the per-torrent cursors moved forward.
type BonusAccrual struct {
	UserID int64
	Member string
	Items  []BonusItem
	Total  float64
}

// Hours is the seeding hours the accrual pays for.
func (c BonusAccrual) Hours() int64 {
	var h int64
	for _, it := range c.Items {
		h += it.Hours
	}
	return h
}

// Rows implements Change.
func (c BonusAccrual) Rows() []Row {
	return []Row{{UserID: c.UserID, Member: c.Member, Rule: "bonus",
		Current: fmt.Sprintf("%d new seeding hours on %d torrents", c.Hours(), len(c.Items)),
		Planned: fmt.Sprintf("+%.4f bonus points", c.Total)}}
}

func (c BonusAccrual) apply(ctx context.Context, tx pgx.Tx, a *applier) ([]Audit, error) {
	for i, it := range c.Items {
		tag, err := tx.Exec(ctx, `INSERT INTO enforce_bonus_cursor AS c (user_id, torrent_id, accounted_seedtime, updated_at)
			VALUES ($1, $2, $4, $5)
			ON CONFLICT (user_id, torrent_id) DO UPDATE SET accounted_seedtime = EXCLUDED.accounted_seedtime, updated_at = EXCLUDED.updated_at
			WHERE c.accounted_seedtime = $3`, c.UserID, it.TorrentID, it.From, it.To, a.now)
		if err != nil {
			return nil, fmt.Errorf("move bonus cursor user %d torrent %d: %w", c.UserID, it.TorrentID, err)
		}
		if tag.RowsAffected() == 0 {
			if i == 0 {
				return nil, nil // first cursor already moved: accrual already applied
			}
			return nil, fmt.Errorf("bonus cursor user %d torrent %d: %w", c.UserID, it.TorrentID, ErrConflict)
		}
	}
	before, after, err := creditBonus(ctx, tx, a.now, bonusAdjustment{UserID: c.UserID, BonusPoints: c.Total,
		Reason: fmt.Sprintf("seeding bonus: %d hours on %d torrents", c.Hours(), len(c.Items))})
	if err != nil {
		return nil, err
	}
	return []Audit{userAudit(ActorBonus, "bonus.accrue", c.UserID, fmt.Sprintf("%d seeding hours", c.Hours()),
		map[string]any{"bonus_points": before},
		map[string]any{"bonus_points": after, "items": c.Items})}, nil
}
