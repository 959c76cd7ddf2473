package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// Row is one line of the dry-run table: who, which rule, the figures the
// decision rests on, and what will change.
type Row struct {
	UserID  int64  `json:"user_id"`
	Member  string `json:"member"`
	Rule    string `json:"rule"`
	Current string `json:"current"`
	Planned string `json:"planned"`
}

// Audit is one audit_log row.
type Audit struct {
	Actor       string
	Action      string
	SubjectKind string
	SubjectID   string
	Reason      string
	Before      any
	After       any
}

// Change is one planned change. Rows describes it for the dry-run table;
// apply carries it out inside tx and returns the audit rows to write, or
// none when its precondition no longer holds (already applied).
type Change interface {
	Rows() []Row
	apply(ctx context.Context, tx pgx.Tx, a *applier) ([]Audit, error)
}

// applier is what a change's apply needs besides the transaction.
type applier struct {
	s   *Store
	now time.Time
}

// Apply carries out one change in its own transaction with its audit rows.
// applied is false when the change was already in place.
func (s *Store) Apply(ctx context.Context, c Change, now time.Time) (applied bool, err error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return false, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback(ctx)
	audits, err := c.apply(ctx, tx, &applier{s: s, now: now})
	if err != nil {
		return false, err
	}
	if len(audits) == 0 {
		return false, nil
	}
	for _, a := range audits {
		if err := writeAudit(ctx, tx, now, a); err != nil {
			return false, err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return false, fmt.Errorf("commit: %w", err)
	}
	return true, nil
}

func writeAudit(ctx context.Context, tx pgx.Tx, now time.Time, a Audit) error {
	before, err := jsonOrNil(a.Before)
	if err != nil {
		return err
	}
	after, err := jsonOrNil(a.After)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO audit_log (at, actor, action, subject_kind, subject_id, reason, before, after)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, now, a.Actor, a.Action, a.SubjectKind, a.SubjectID, a.Reason, before, after)
	if err != nil {
		return fmt.Errorf("write audit row %s: %w", a.Action, err)
	}
	return nil
}

func jsonOrNil(v any) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode audit json: %w", err)
	}
	return b, nil
}

func userAudit(actor, action string, userID int64, reason string, before, after any) Audit {
	return Audit{Actor: actor, Action: action, SubjectKind: "user", SubjectID: strconv.FormatInt(userID, 10),
		Reason: reason, Before: before, After: after}
}

// Actors: the job that made a change, as written to audit_log.actor.
const (
	ActorRatio    = "enforce/ratio"
	ActorHnR      = "enforce/hnr"
	ActorBonus    = "enforce/bonus"
	ActorVerdicts = "enforce/verdicts"
	ActorLeech    = "enforce/leech"
)

// ErrConflict means the state moved under a change since the snapshot.
var ErrConflict = errors.New("state changed since the snapshot")

// RecordVerdictError stores why a report's verdict could not be carried
// out, so staff see it; unchanged errors are not rewritten.
func (s *Store) RecordVerdictError(ctx context.Context, reportID int64, msg string) error {
	_, err := s.pool.Exec(ctx, `UPDATE cheat_reports SET enforce_error = $2
		WHERE id = $1 AND enforced_at IS NULL AND enforce_error IS DISTINCT FROM $2`, reportID, msg)
	if err != nil {
		return fmt.Errorf("record verdict error on report %d: %w", reportID, err)
	}
	return nil
}
