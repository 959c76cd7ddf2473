package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// LeechState is a member's leeching flag, enforce's hold on it and the
// blocks that apply.
type LeechState struct {
	CanLeech bool     `json:"can_leech"`
	Held     bool     `json:"held_by_enforce"`
	Blocks   []string `json:"blocks,omitempty"`
}

// Reason joins the blocks into the text stored with the hold.
func (l LeechState) Reason() string { return strings.Join(l.Blocks, "; ") }

// syncLeech makes users.can_leech follow the member's blocks, under a lock
// on the member's row: blocked and not yet held → leeching off and held; no
// block left and held → leeching back on. enforce never turns on what it
// did not turn off, and leaves a staff override alone while it holds.
func (a *applier) syncLeech(ctx context.Context, tx pgx.Tx, userID int64) (before, after LeechState, err error) {
	var holdReason string
	var ratioBlocked bool
	var warnings int
	var reports []int64
	err = tx.QueryRow(ctx, leechStateSQL, userID).Scan(&before.CanLeech, &before.Held, &holdReason,
		&ratioBlocked, &warnings, &reports)
	if err != nil {
		return before, after, fmt.Errorf("read leech state of user %d: %w", userID, err)
	}
	if ratioBlocked {
		before.Blocks = append(before.Blocks, "ratio below the requirement after ratio watch")
	}
	if n := a.s.cfg.HnR.WarningsToDisable; warnings >= n {
		before.Blocks = append(before.Blocks, fmt.Sprintf("%d active hit-and-run warnings (limit %d)", warnings, n))
	}
	for _, r := range reports {
		before.Blocks = append(before.Blocks, fmt.Sprintf("cheating confirmed (report #%d)", r))
	}
	after = before
	reason := before.Reason()
	switch {
	case len(before.Blocks) > 0 && !before.Held:
		if !before.CanLeech {
			return before, after, nil // disabled by someone else: not ours to hold
		}
		if _, err := tx.Exec(ctx, `UPDATE users SET can_leech = FALSE, updated_at = $2 WHERE id = $1`, userID, a.now); err != nil {
			return before, after, fmt.Errorf("disable leeching of user %d: %w", userID, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO enforce_leech_holds (user_id, disabled_at, reason) VALUES ($1, $2, $3)`,
			userID, a.now, reason); err != nil {
			return before, after, fmt.Errorf("record leech hold of user %d: %w", userID, err)
		}
		after.CanLeech, after.Held = false, true
	case len(before.Blocks) > 0 && holdReason != reason:
		if _, err := tx.Exec(ctx, `UPDATE enforce_leech_holds SET reason = $2 WHERE user_id = $1`, userID, reason); err != nil {
			return before, after, fmt.Errorf("update leech hold of user %d: %w", userID, err)
		}
	case len(before.Blocks) == 0 && before.Held:
		if _, err := tx.Exec(ctx, `DELETE FROM enforce_leech_holds WHERE user_id = $1`, userID); err != nil {
			return before, after, fmt.Errorf("release leech hold of user %d: %w", userID, err)
		}
		if !before.CanLeech {
			if _, err := tx.Exec(ctx, `UPDATE users SET can_leech = TRUE, updated_at = $2 WHERE id = $1`, userID, a.now); err != nil {
				return before, after, fmt.Errorf("restore leeching of user %d: %w", userID, err)
			}
		}
		after.CanLeech, after.Held = true, false
	}
	return before, after, nil
}

// LeechSync releases enforce's hold on a member none of whose blocks is left
// (for instance staff deleted a verdict's leech block).
type LeechSync struct {
	UserID int64
	Member string
}

// Rows implements Change.
func (c LeechSync) Rows() []Row {
	return []Row{{UserID: c.UserID, Member: c.Member, Rule: "leech", Current: "leeching held by enforce, no block left",
		Planned: "leeching restored"}}
}

func (c LeechSync) apply(ctx context.Context, tx pgx.Tx, a *applier) ([]Audit, error) {
	before, after, err := a.syncLeech(ctx, tx, c.UserID)
	if err != nil || before.Held == after.Held {
		return nil, err
	}
	return []Audit{userAudit(ActorLeech, "leech.sync", c.UserID, "no enforcement block left", before, after)}, nil
}
